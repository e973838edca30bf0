import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { apiCall } from './api-client.js';
import { TEST_DOCKER_SOCKET, TEST_IMAGE } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

/** Issue 7: placement constraints and spread preferences per deployment, on the real swarm. */
const docker = new Docker({ socketPath: TEST_DOCKER_SOCKET });
const prefix = uniquePrefix('placement').replace(/:/g, '-');
let database: TestDatabase;
let runway: RunwayInstance;
let user: UserWithKey;
let environmentId: string;
let dir: string;

const call = (method: string, path: string, body?: unknown) => apiCall(runway.url, user.apiKey, method, path, body);

async function finalState(deploymentId: string) {
  let row;
  const deadline = Date.now() + 60_000;
  do {
    await new Promise((resolve) => setTimeout(resolve, 300));
    row = await database.db.deployment.findUniqueOrThrow({ where: { id: deploymentId }, include: { service: true } });
  } while (!['RUNNING', 'FAILED'].includes(row.status) && Date.now() < deadline);
  return row;
}

beforeAll(async () => {
  database = await createTestDatabase('placement');
  dir = await mkdtemp(join(tmpdir(), 'rw-placement-'));
  runway = await startRunway(
    {
      DATABASE_URL: database.url,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      NGINX_BIN: '/bin/true',
      NGINX_SITES_DIR: join(dir, 'sites'),
      NGINX_CERTS_DIR: join(dir, 'certs'),
      NGINX_ACME_WEBROOT: join(dir, 'webroot'),
      SERVICE_CONVERGE_TIMEOUT_MS: '5000',
    },
    'all',
  );
  user = await createUserWithKey(database.db, { scopes: ['ENVIRONMENTS_WRITE', 'ENVIRONMENTS_READ', 'DEPLOYMENTS_WRITE', 'DEPLOYMENTS_READ'] });
  const created = await call('POST', '/environments', { name: 'placed' });
  expect(created.status).toBe(201);
  environmentId = created.body.id as string;
}, 120_000);

afterAll(async () => {
  await call('DELETE', `/environments/${environmentId}`).catch(() => undefined);
  const services = await docker.listServices({ filters: { label: [`io.runway.instance=${prefix}`] } });
  await Promise.all(services.map((service) => docker.getService(service.ID).remove().catch(() => undefined)));
  await runway?.stop();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('placement per deployment', () => {
  const image = TEST_IMAGE.split(':')[0];

  it('passes constraints and spread preferences to Swarm and runs where they allow', async () => {
    const answer = await call('POST', '/deployments', {
      environmentId, image, tag: '1', name: 'placed', command: 'sleep 3600',
      placement: { constraints: ['node.role==manager'], preferences: [{ spread: 'node.labels.rwtest-zone' }] },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const row = await finalState(answer.body.deploymentId as string);
    expect(row.status, row.errorMessage ?? '').toBe('RUNNING');
    const service = await docker.getService(row.service.swarmName).inspect();
    expect(service.Spec.TaskTemplate.Placement).toMatchObject({
      Constraints: ['node.role==manager'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.rwtest-zone' } }],
    });
  });

  it('fails, with Swarm\'s reason, when no node satisfies the constraints', async () => {
    const answer = await call('POST', '/deployments', {
      environmentId, image, tag: '1', name: 'nowhere', command: 'sleep 3600',
      placement: { constraints: ['node.labels.rwtest-nowhere==yes'] },
    });
    expect(answer.status).toBe(202);
    const row = await finalState(answer.body.deploymentId as string);
    expect(row.status).toBe('FAILED');
    expect(row.errorMessage).toMatch(/suitable node|constraint/i);
  });

  it('refuses constraints outside the grammar with 400, creating nothing', async () => {
    const before = await database.db.deployment.count();
    for (const placement of [
      { constraints: ['node.role==manager; rm -rf /'] },
      { constraints: ['--constraint=x'] },
      { preferences: [{ spread: 'node.id' }] },
      { constraints: ['node.role==manager'], extra: true },
    ]) {
      const answer = await call('POST', '/deployments', { environmentId, image, tag: '1', name: 'bad', placement });
      expect(answer.status, JSON.stringify(placement)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect(await database.db.deployment.count()).toBe(before);
  });
});
