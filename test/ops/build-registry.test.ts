import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { TEST_DOCKER_SOCKET } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { apiCall } from './api-client.js';
import { startFakeRegistry, type FakeRegistry } from './fake-registry.js';

/**
 * Issue 7: images built from Git are pushed to BUILD_REGISTRY so every swarm
 * node can pull them. The real engine pushes to a registry on loopback that
 * speaks the Registry v2 protocol and wants Basic credentials.
 */
const docker = new Docker({ socketPath: TEST_DOCKER_SOCKET });
const credentials = { username: 'runway', password: 's3cret-push' };
let registry: FakeRegistry;
let database: TestDatabase;
let dir: string;
let repo: string;
const instances: RunwayInstance[] = [];
const prefixes: string[] = [];

async function makeRepository(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'rw-registry-src-'));
  await writeFile(join(path, 'Dockerfile'), 'FROM local/busybox:1\nRUN echo pushed > /pushed.txt\nCMD ["sleep", "3600"]\n');
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: path, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '.');
  git('commit', '--quiet', '-m', 'initial');
  return path;
}

/** A whole Runway process configured for the registry, with a user, a key and an environment. */
async function runwayWith(env: Record<string, string>) {
  const prefix = uniquePrefix('registry').replace(/:/g, '-');
  prefixes.push(prefix);
  const runway = await startRunway({
    DATABASE_URL: database.url, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ALLOW_FILE_GIT_URLS: 'true',
    RUNWAY_STATE_DIR: dir, NGINX_BIN: '/bin/true', NGINX_SITES_DIR: join(dir, 'sites'), NGINX_CERTS_DIR: join(dir, 'certs'),
    NGINX_ACME_WEBROOT: join(dir, 'webroot'), BUILD_REGISTRY: `${registry.host}/rwtest`, BUILD_REGISTRY_USERNAME: credentials.username, ...env,
  }, 'all');
  instances.push(runway);
  const user: UserWithKey = await createUserWithKey(database.db, { scopes: ['ENVIRONMENTS_WRITE', 'DEPLOYMENTS_WRITE', 'DEPLOYMENTS_READ'] });
  const call = (path: string, body: unknown) => apiCall(runway.url, user.apiKey, 'POST', path, body);
  const environment = await call('/environments', { name: 'reg' });
  expect(environment.status).toBe(201);
  const deploy = async () => {
    const answer = await call('/deployments/from-git', { environmentId: environment.body.id, repoUrl: `file://${repo}`, branch: 'main', name: 'built' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    let row;
    const deadline = Date.now() + 90_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 300));
      row = await database.db.deployment.findUniqueOrThrow({ where: { id: answer.body.deploymentId as string }, include: { service: true } });
    } while (!['RUNNING', 'FAILED'].includes(row.status) && Date.now() < deadline);
    return row;
  };
  return { deploy, runway };
}

beforeAll(async () => {
  registry = await startFakeRegistry(credentials);
  database = await createTestDatabase('registry');
  dir = await mkdtemp(join(tmpdir(), 'rw-registry-'));
  repo = await makeRepository();
}, 60_000);

afterAll(async () => {
  for (const prefix of prefixes) {
    const services = await docker.listServices({ filters: { label: [`io.runway.instance=${prefix}`] } });
    await Promise.all(services.map((service) => docker.getService(service.ID).remove().catch(() => undefined)));
  }
  for (const runway of instances) await runway.stop();
  const images = await docker.listImages({ filters: { reference: [`${registry.host}/rwtest/*/*`] } });
  await Promise.all(images.flatMap((image) => (image.RepoTags ?? []).map((tag) => docker.getImage(tag).remove({ force: true }).catch(() => undefined))));
  await registry?.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
  await rm(repo, { recursive: true, force: true });
}, 120_000);

describe('BUILD_REGISTRY', () => {
  it('pushes a Git-built image with the configured credentials and runs the registry reference', async () => {
    const { deploy } = await runwayWith({ BUILD_REGISTRY_PASSWORD: credentials.password });
    const row = await deploy();
    expect(row.status, row.errorMessage ?? '').toBe('RUNNING');
    expect(row.builtImage).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/rwtest/runway-build/[^:]+:${row.id}$`));
    const repository = row.builtImage!.slice(registry.host.length + 1, row.builtImage!.lastIndexOf(':'));
    const manifest = registry.manifests.get(`${repository}:${row.id}`);
    expect(manifest, [...registry.manifests.keys()].join(', ')).toBeDefined();
    const layers = (JSON.parse(manifest!.body.toString()) as { layers: { digest: string }[] }).layers;
    expect(layers.length).toBeGreaterThan(0);
    for (const layer of layers) expect(registry.blobs.has(layer.digest)).toBe(true);
    const service = await docker.getService(row.service.swarmName).inspect();
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toContain(`${registry.host}/rwtest/runway-build/`);
    expect(row.buildLog).toContain(`pushed ${row.builtImage}`);
  });

  it('fails the deployment with the registry\'s reason when the push is refused', async () => {
    // No credentials: the registry answers 401 (a wrong password fails the same way, after the engine's own retries, ~50 s).
    const { deploy } = await runwayWith({ BUILD_REGISTRY_USERNAME: '' });
    const row = await deploy();
    expect(row.status).toBe('FAILED');
    expect(row.errorMessage).toMatch(/pushing .* failed: .*(no basic auth credentials|unauthorized|authentication required)/i);
  });
});
