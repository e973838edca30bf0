import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { spawnRunway } from './runway-process.js';

const run = promisify(execFile);

/**
 * No registry is reachable here, so the image itself cannot be built. This
 * rebuilds what the Dockerfile's runtime stage contains, the same way (npm
 * production install, deploy/prune-runtime-deps.mjs, tsc to dist/, migrations
 * and templates beside it), and runs `runway migrate`, `api` and `worker` from
 * it: a dependency missing from the runtime stage fails here.
 */
let app: string;
let database: TestDatabase;

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await du(path) : (await stat(path)).size;
  }
  return total;
}

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'rw-runtime-'));
  await cp(join(PROJECT_ROOT, 'package.json'), join(app, 'package.json'));
  await cp(join(PROJECT_ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  // The npm lock: never two npm installs at once on this machine (team rule).
  await run('flock', ['/tmp/runway-npm.lock', 'npm', 'install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    timeout: 240_000,
  });
  await run(process.execPath, [join(PROJECT_ROOT, 'deploy/prune-runtime-deps.mjs'), app]);
  await run(join(PROJECT_ROOT, 'node_modules/.bin/tsc'), ['-p', join(PROJECT_ROOT, 'tsconfig.json'), '--outDir', join(app, 'dist')], { cwd: PROJECT_ROOT, timeout: 240_000 }).catch(
    // Type errors elsewhere in a tree under construction still emit; a missing output file fails below.
    (error: { stdout?: string }) => error.stdout,
  );
  await cp(join(PROJECT_ROOT, 'prisma/migrations'), join(app, 'prisma/migrations'), { recursive: true });
  await cp(join(PROJECT_ROOT, 'nginx-templates'), join(app, 'nginx-templates'), { recursive: true });
  database = await createTestDatabase('runtime');
}, 400_000);

afterAll(async () => {
  await database?.drop();
  await rm(app, { recursive: true, force: true });
});

describe('the runtime stage of the image', () => {
  it('holds production dependencies only', async () => {
    const modules = await readdir(join(app, 'node_modules'));
    for (const absent of ['prisma', 'typescript', 'vitest', 'tsx', 'pino-pretty', '.bin']) expect(modules, absent).not.toContain(absent);
    for (const present of ['express', 'bullmq', '@prisma', 'prom-client', 'dockerode']) expect(modules, present).toContain(present);
    expect(await du(join(app, 'node_modules'))).toBeLessThan(200 * 1024 * 1024);
  });

  it('migrates and serves as `runway api` and `runway worker`', async () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: uniquePrefix('runtime'),
      RUNWAY_STATE_DIR: '/tmp',
      NGINX_BIN: '/bin/true',
      NGINX_SITES_DIR: join(app, 'sites'),
      NGINX_CERTS_DIR: join(app, 'certs'),
      NGINX_ACME_WEBROOT: join(app, 'webroot'),
    };
    const migrated = await run(process.execPath, [join(app, 'dist/main.js'), 'migrate'], { env: { PATH: process.env.PATH, ...env } });
    expect(migrated.stdout).toMatch(/migrations: \d+ applied/);
    const [api, worker] = await Promise.all([
      spawnRunway('api', env, { entry: join(app, 'dist/main.js') }),
      spawnRunway('worker', env, { entry: join(app, 'dist/main.js') }),
    ]);
    try {
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
      const metrics = await fetch(`${api.url}/metrics`);
      expect(await metrics.text()).toContain('runway_http_requests_total{method="GET",route="/health",status="200",role="api"} 1');
      expect((await fetch(`${worker.url}/health`)).status).toBe(200);
    } finally {
      expect(await api.stop()).toBe(0);
      expect(await worker.stop()).toBe(0);
    }
    const edge = await run(process.execPath, [join(app, 'dist/ops/edge-nginx.js'), '-v']);
    expect(edge.stderr).toMatch(/nginx version/);
  });
});
