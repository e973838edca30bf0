/**
 * The REST edge through a whole Runway process (API, queue, domain worker):
 * POST /environments/:id/public validates, answers 202, and the worker routes
 * the domain through the test Nginx with a certificate from Pebble.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyForUser, createUserWithKey, type UserWithKey } from '../support/api-keys.js';
import { startTestNginx, type TestNginx } from '../support/nginx-instance.js';
import { PEBBLE_LISTENER_CA, startPebble, type TestPebble } from '../support/pebble.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { createServiceFixture, httpsGet, type ServiceFixture } from './https-fixtures.js';

const suffix = randomBytes(3).toString('hex');
const hostname = `rest-${suffix}.test`;
let t: TestDatabase;
let nginx: TestNginx;
let pebble: TestPebble;
let runway: RunwayInstance;
let fixture: ServiceFixture;
let owner: { apiKey: string };
let readOnly: { apiKey: string };
let stranger: UserWithKey;

function call(key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${runway.url}${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
}

beforeAll(async () => {
  t = await createTestDatabase('domain_routes');
  nginx = await startTestNginx('routes');
  pebble = await startPebble({ httpPort: nginx.httpPort });
  fixture = await createServiceFixture(t.db, 'routes');
  owner = await createKeyForUser(t.db, fixture.userId, { scopes: ['ENVIRONMENTS_READ', 'ENVIRONMENTS_WRITE'] });
  readOnly = await createKeyForUser(t.db, fixture.userId, { scopes: ['ENVIRONMENTS_READ'] });
  stranger = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ', 'ENVIRONMENTS_WRITE'] });
  runway = await startRunway(
    {
      DATABASE_URL: t.url,
      REDIS_PREFIX: uniquePrefix('domains'),
      RATE_LIMIT_MAX: '10000',
      ...nginx.config,
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      ACME_CA_CERT: PEBBLE_LISTENER_CA,
    },
    'all',
  );
});

afterAll(async () => {
  await runway?.stop();
  await fixture?.remove();
  await pebble?.stop();
  await nginx?.stop();
  await t?.drop();
});

describe('POST /environments/:id/public', () => {
  it('rejects bad input with the SPEC error shape and changes nothing', async () => {
    const path = `/environments/${fixture.environmentId}/public`;
    const cases: [unknown, number, string][] = [
      [{ domain: '*.example.com', service: 'web', port: 80 }, 400, 'VALIDATION_FAILED'],
      [{ domain: '10.1.2.3', service: 'web', port: 80 }, 400, 'VALIDATION_FAILED'],
      [{ domain: 'a.test;}', service: 'web', port: 80 }, 400, 'VALIDATION_FAILED'],
      [{ domain: 'ok.test', service: 'web', port: 8080 }, 400, 'VALIDATION_FAILED'],
      [{ domain: 'ok.test', service: 'web', port: '80' }, 400, 'VALIDATION_FAILED'],
      [{ domain: 'ok.test', service: 'nope', port: 80 }, 404, 'NOT_FOUND'],
    ];
    for (const [body, status, code] of cases) {
      const response = await call(owner.apiKey, 'POST', path, body);
      const json = (await response.json()) as { error: Record<string, unknown> };
      expect({ body, status: response.status, code: json.error.code }).toEqual({ body, status, code });
      expect(Object.keys(json.error).sort()).toEqual(['code', 'details', 'message', 'retryable', 'suggestions']);
    }
    expect(await t.db.domain.count()).toBe(0);
  });

  it("answers 404 for another user's environment and 403 without ENVIRONMENTS_WRITE", async () => {
    const body = { domain: `x-${suffix}.test`, service: 'web', port: 80 };
    expect((await call(stranger.apiKey, 'POST', `/environments/${fixture.environmentId}/public`, body)).status).toBe(404);
    expect((await call(stranger.apiKey, 'GET', `/environments/${fixture.environmentId}/public`)).status).toBe(404);
    expect((await call(readOnly.apiKey, 'POST', `/environments/${fixture.environmentId}/public`, body)).status).toBe(403);
    expect(await t.db.domain.count()).toBe(0);
  });

  it('answers 202 and the worker makes the domain ACTIVE and reachable over HTTPS', async () => {
    const response = await call(owner.apiKey, 'POST', `/environments/${fixture.environmentId}/public`, { domain: hostname, service: 'web', port: 80 });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ hostname, service: 'web', port: 80, status: 'PENDING' });

    const deadline = Date.now() + 30_000;
    let domains: { hostname: string; status: string; reason: string | null; certificate: { expiresAt: string | null } | null }[] = [];
    while (Date.now() < deadline) {
      domains = ((await (await call(readOnly.apiKey, 'GET', `/environments/${fixture.environmentId}/public`)).json()) as { domains: typeof domains }).domains;
      if (domains[0]?.status !== 'PENDING') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(domains).toMatchObject([{ hostname, status: 'ACTIVE', reason: null }]);
    expect(domains[0]!.certificate!.expiresAt).toBeTruthy();

    const root = await pebble.issuingRoot();
    let answer = await httpsGet(hostname, nginx.httpsPort, root).catch(() => undefined);
    for (let attempt = 0; attempt < 50 && answer?.status !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await httpsGet(hostname, nginx.httpsPort, root).catch(() => undefined);
    }
    expect(answer?.body.trim()).toBe(fixture.body);
  });

  it('answers 409 when the hostname is already routed elsewhere', async () => {
    const environment = await t.db.environment.create({
      data: { id: nanoid(), userId: stranger.user.id, name: 'other', networkName: `rwtest-other-${suffix}` },
    });
    const service = await t.db.service.create({ data: { id: nanoid(), environmentId: environment.id, name: 'web', swarmName: `rwtest-other-web-${suffix}` } });
    const deployment = await t.db.deployment.create({
      data: { id: nanoid(), jobId: nanoid(16), userId: stranger.user.id, environmentId: environment.id, serviceId: service.id, source: 'IMAGE', spec: { ports: [{ container: 80 }] } },
    });
    await t.db.service.update({ where: { id: service.id }, data: { currentDeploymentId: deployment.id } });
    const response = await call(stranger.apiKey, 'POST', `/environments/${environment.id}/public`, { domain: hostname, service: 'web', port: 80 });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { message: string } }).error.message).not.toContain(fixture.environmentId);
  });

  it('removes the route with DELETE', async () => {
    expect((await call(owner.apiKey, 'DELETE', `/environments/${fixture.environmentId}/public/${hostname}`)).status).toBe(204);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await readdir(nginx.sitesDir)).includes(`rw-${hostname}.conf`)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await readdir(nginx.sitesDir)).not.toContain(`rw-${hostname}.conf`);
    expect((await call(owner.apiKey, 'DELETE', `/environments/${fixture.environmentId}/public/${hostname}`)).status).toBe(404);
  });
});

describe('GET /environments/:id', () => {
  it('shows each domain with its state and, for a failed one, the reason', async () => {
    const failed = `failed-${suffix}.test`;
    const reason = 'ACME_CHALLENGE_FAILED: the CA could not reach http://' + failed;
    const row = await t.db.domain.create({ data: { id: nanoid(), environmentId: fixture.environmentId, serviceId: fixture.serviceId, hostname: failed, port: 80, status: 'FAILED', reason } });
    try {
      const response = await call(readOnly.apiKey, 'GET', `/environments/${fixture.environmentId}`);
      expect(response.status).toBe(200);
      const { domains } = (await response.json()) as { domains: { hostname: string; status: string; reason: string | null }[] };
      expect(domains).toContainEqual(expect.objectContaining({ hostname: failed, status: 'FAILED', reason }));
    } finally {
      await t.db.domain.delete({ where: { id: row.id } });
    }
  });
});
