import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let runway: RunwayInstance;
let alice: UserWithKey;
let bob: UserWithKey;
const bobs = { environmentId: '', deploymentId: '', jobId: '' };

/** Bob's environment, service and deployment, inserted directly (no Docker objects behind them). */
async function insertBobsResources(): Promise<void> {
  const suffix = nanoid(6).toLowerCase().replace(/[^a-z0-9]/g, 'x');
  const environment = await t.db.environment.create({
    data: { id: nanoid(), userId: bob.user.id, name: 'shop', networkName: `rwtest-iso-${suffix}` },
  });
  const service = await t.db.service.create({
    data: { id: nanoid(), environmentId: environment.id, name: 'web', swarmName: `rwtest-iso-web-${suffix}` },
  });
  const deployment = await t.db.deployment.create({
    data: {
      id: nanoid(),
      jobId: nanoid(16),
      userId: bob.user.id,
      environmentId: environment.id,
      serviceId: service.id,
      source: 'IMAGE',
      status: 'RUNNING',
      image: 'local/busybox',
      tag: '1',
      spec: {},
    },
  });
  Object.assign(bobs, { environmentId: environment.id, deploymentId: deployment.id, jobId: deployment.jobId });
}

beforeAll(async () => {
  t = await createTestDatabase('isolation');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('isolation'), RATE_LIMIT_MAX: '10000' });
  const everyScopeButAdmin = ['ENVIRONMENTS_READ', 'ENVIRONMENTS_WRITE', 'DEPLOYMENTS_READ', 'DEPLOYMENTS_WRITE', 'LOGS_READ'] as const;
  alice = await createUserWithKey(t.db, { scopes: [...everyScopeButAdmin] });
  bob = await createUserWithKey(t.db, { scopes: [...everyScopeButAdmin] });
  await insertBobsResources();
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

function asAlice(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${runway.url}${path}`, {
    method,
    headers: { 'x-api-key': alice.apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
}

describe("another user's resources answer 404, never 403", () => {
  it('environments, deployments and keys of Bob are not found for Alice, and stay untouched', async () => {
    const cases: Array<[string, string, unknown?]> = [
      ['GET', `/environments/${bobs.environmentId}`],
      ['DELETE', `/environments/${bobs.environmentId}`],
      ['POST', `/environments/${bobs.environmentId}/public`, { domain: 'bob.example.com', service: 'web', port: 80 }],
      ['POST', '/deployments', { environmentId: bobs.environmentId, image: 'local/busybox', tag: '1' }],
      ['POST', '/deployments/from-git', { environmentId: bobs.environmentId, repoUrl: 'https://example.com/bob/app.git' }],
      ['GET', `/deployments/job/${bobs.jobId}`],
      ['GET', `/deployments/environment/${bobs.environmentId}`],
      ['GET', `/deployments/${bobs.deploymentId}/logs`],
      ['POST', `/deployments/${bobs.deploymentId}/rollback`],
      ['DELETE', `/deployments/${bobs.deploymentId}`],
      ['POST', '/auth/revoke', { keyId: bob.keyId }],
    ];
    const failures: string[] = [];
    for (const [method, path, body] of cases) {
      const res = await asAlice(method, path, body);
      const text = await res.text();
      // ROUTE_NOT_FOUND would mean the route is missing, not that isolation works.
      if (res.status !== 404 || text.includes('ROUTE_NOT_FOUND')) failures.push(`${method} ${path}: ${res.status} ${text.slice(0, 160)}`);
    }
    expect(failures).toEqual([]);
    const environment = await t.db.environment.findUnique({ where: { id: bobs.environmentId } });
    expect(environment).not.toBeNull();
    const deployment = await t.db.deployment.findUniqueOrThrow({ where: { id: bobs.deploymentId } });
    expect(deployment.status).toBe('RUNNING');
    expect(await t.db.deployment.count({ where: { environmentId: bobs.environmentId } })).toBe(1);
    expect((await t.db.apiKey.findUniqueOrThrow({ where: { keyId: bob.keyId } })).revokedAt).toBeNull();
    expect(await t.db.domain.count()).toBe(0);
  });

  it("Bob's key is still valid after Alice tried to revoke it, and Alice's key list holds only her key", async () => {
    const bobsList = await fetch(`${runway.url}/auth/keys`, { headers: { 'x-api-key': bob.apiKey } });
    expect(bobsList.status).toBe(200);
    const alicesList = (await (await asAlice('GET', '/auth/keys')).json()) as { keys: Array<{ keyId: string }> };
    expect(alicesList.keys.map((key) => key.keyId)).toEqual([alice.keyId]);
  });

  it("lists of Alice never contain Bob's environments", async () => {
    const res = await asAlice('GET', '/environments');
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(bobs.environmentId);
  });
});
