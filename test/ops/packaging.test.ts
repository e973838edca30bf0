import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);
const root = (path: string) => join(PROJECT_ROOT, path);

describe('Dockerfile', () => {
  let instructions: Instruction[];
  let stages: { name: string | undefined; instructions: Instruction[] }[];

  beforeAll(async () => {
    const dockerfile = DockerfileParser.parse(await readFile(root('Dockerfile'), 'utf8'));
    instructions = dockerfile.getInstructions();
    stages = [];
    for (const instruction of instructions) {
      if (instruction.getKeyword() === 'FROM') {
        stages.push({ name: dockerfile.getFROMs()[stages.length]?.getBuildStage() ?? undefined, instructions: [] });
      } else stages.at(-1)?.instructions.push(instruction);
    }
  });

  const args = (instruction: Instruction) => instruction.getArgumentsContent() ?? '';
  const runtime = () => stages.at(-1)!.instructions;

  it('is multi-stage: a build stage that builds, a runtime stage that only copies', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
    const buildRuns = stages[0]!.instructions.filter((i) => i.getKeyword() === 'RUN').map(args).join('\n');
    expect(buildRuns).toContain('npm run build');
    expect(buildRuns).toMatch(/npm prune --omit=dev/);
    const runtimeRuns = runtime().filter((i) => i.getKeyword() === 'RUN').map(args).join('\n');
    expect(runtimeRuns).not.toMatch(/npm (install|ci)/);
    const copies = runtime().filter((i) => i.getKeyword() === 'COPY').map(args);
    for (const copied of ['/app/node_modules', '/app/dist', 'prisma/migrations', 'nginx-templates', 'deploy/edge/nginx.conf']) {
      expect(copies.some((line) => line.includes(copied)), copied).toBe(true);
    }
  });

  it('runs as a non-root user without the docker group baked in', () => {
    const users = runtime().filter((i) => i.getKeyword() === 'USER').map(args);
    expect(users.at(-1)).toBe('runway:runway');
    const runs = runtime().filter((i) => i.getKeyword() === 'RUN').map(args).join('\n');
    expect(runs).toMatch(/useradd .*--uid 10001/);
    expect(runs).not.toMatch(/usermod|docker/);
  });

  it('checks /health with node (no curl) and enters through runway', () => {
    const healthcheck = runtime().find((i) => i.getKeyword() === 'HEALTHCHECK');
    expect(args(healthcheck!)).toMatch(/CMD \["node", "-e", .*\/health/);
    expect(args(healthcheck!)).not.toContain('curl');
    expect(args(runtime().find((i) => i.getKeyword() === 'ENTRYPOINT')!)).toBe('["runway"]');
  });

  it('copies only files that exist and that .dockerignore lets through', async () => {
    const ignored = (await readFile(root('.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', '.env', '.env.*']));
    const sources = instructions
      .filter((i) => i.getKeyword() === 'COPY' && !(i as Copy).getFromFlag())
      .flatMap((i) => args(i).split(/\s+/).slice(0, -1));
    for (const source of sources) {
      await expect(readFile(root(source)).catch((e: NodeJS.ErrnoException) => (e.code === 'EISDIR' ? 'dir' : Promise.reject(e)))).resolves.toBeDefined();
      expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), source).toBe(false);
    }
  });
});

describe('docker-compose.prod.yml', () => {
  let dir: string;
  let config: { services: Record<string, Record<string, any>>; volumes: Record<string, unknown> };
  const compose = (...extra: string[]) =>
    run('docker-compose', ['--env-file', join(dir, '.env.prod'), '-f', join(dir, 'docker-compose.prod.yml'), ...extra], { cwd: dir });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rw-compose-'));
    await cp(root('docker-compose.prod.yml'), join(dir, 'docker-compose.prod.yml'));
    await cp(root('.env.prod.example'), join(dir, '.env.prod'));
    config = parseYaml((await compose('config')).stdout) as typeof config;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('passes docker-compose config with API replicas and workers as separate services', () => {
    expect(Object.keys(config.services).sort()).toEqual(['api', 'edge', 'migrate', 'postgres', 'redis', 'worker']);
    expect(config.services.api!.command).toEqual(['api']);
    expect(config.services.api!.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(config.services.worker!.command).toEqual(['worker']);
    expect(config.services.migrate!.command).toEqual(['migrate']);
    expect(Object.keys(config.volumes).sort()).toEqual(['acme-webroot', 'nginx-sites', 'pgdata', 'redisdata', 'runway-state']);
  });

  it('gives every long-running service a health check, a restart policy and resource limits', () => {
    for (const name of ['api', 'worker', 'postgres', 'redis', 'edge']) {
      const service = config.services[name]!;
      expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.restart, name).toBe('unless-stopped');
      expect(service.deploy?.resources?.limits?.memory, name).toBeDefined();
      expect(service.deploy?.resources?.limits?.cpus, name).toBeDefined();
    }
    expect(config.services.migrate!.restart).toBe('no');
  });

  it('starts API and workers only after healthy dependencies and applied migrations', () => {
    for (const name of ['api', 'worker']) {
      expect(config.services[name]!.depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(config.services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it('mounts the Docker socket, with its group, only where Docker is used', () => {
    const withSocket = Object.entries(config.services)
      .filter(([, service]) => (service.volumes ?? []).some((v: string) => v.startsWith('/var/run/docker.sock:')))
      .map(([name]) => name);
    expect(withSocket.sort()).toEqual(['api', 'worker']);
    const withGroup = Object.entries(config.services).filter(([, s]) => (s.group_add ?? []).length > 0).map(([name]) => name);
    expect(withGroup.sort()).toEqual(['api', 'worker']);
    expect(config.services.api!.group_add).toEqual(['999']);
    expect(config.services.edge!.network_mode).toBe('host');
    expect(config.services.edge!.labels).toEqual({ 'io.runway.edge': 'true' });
  });

  it('keeps secrets out of the compose file and fails clearly without them', async () => {
    const raw = await readFile(root('docker-compose.prod.yml'), 'utf8');
    for (const match of raw.matchAll(/^\s*([A-Z_]*(PASSWORD|TOKEN|SECRET)[A-Z_]*):\s*(.+)$/gm)) {
      expect(match[3], match[1]).toMatch(/^\$\{/);
    }
    expect(config.services.api!.environment.DATABASE_URL).toBe('postgresql://runway:change-me@postgres:5432/runway');
    const example = await readFile(join(dir, '.env.prod'), 'utf8');
    await writeFile(join(dir, '.env.prod'), example.replace(/^POSTGRES_PASSWORD=.*$/m, ''));
    const failure = await compose('config').then(() => undefined, (error: { stderr: string }) => error.stderr);
    await writeFile(join(dir, '.env.prod'), example);
    expect(failure).toContain('set POSTGRES_PASSWORD in .env.prod');
  });

  it('ships an example env file that Runway accepts', async () => {
    const env: Record<string, string> = {};
    for (const line of (await readFile(root('.env.prod.example'), 'utf8')).split('\n')) {
      const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2]!;
    }
    const parsed = loadConfig({ ...env, ...config.services.worker!.environment });
    expect(parsed).toMatchObject({ NGINX_BIN: '/usr/local/bin/runway-edge-nginx', METRICS_PORT: 9464, SWARM_ENDPOINT_MODE: 'dnsrr' });
    expect(loadConfig({ ...env, ...config.services.api!.environment })).toMatchObject({ TRUST_PROXY: 'loopback, uniquelocal', PORT: 3000 });
  });
});
