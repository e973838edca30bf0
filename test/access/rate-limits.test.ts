import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisRateLimits, type RateLimitOptions } from '../../src/api/rate-limit/redis-rate-limits.js';
import type { Principal } from '../../src/core/principal.js';
import { createKeyForUser, createUserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let first: RunwayInstance;
let second: RunwayInstance;
const redisClients: Redis[] = [];
const prefix = uniquePrefix('ratelimit');

beforeAll(async () => {
  t = await createTestDatabase('ratelimit');
  const env = { DATABASE_URL: t.url, REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '5', RATE_LIMIT_TTL: '60000', AUTH_FAIL_LIMIT: '4' };
  first = await startRunway(env);
  second = await startRunway(env);
});
afterAll(async () => {
  for (const redis of redisClients) redis.disconnect();
  await first?.stop();
  await second?.stop();
  await t?.drop();
});

/** Waits for the connection: before it is ready the limiter falls back to per-process memory. */
async function limits(options: Partial<RateLimitOptions> = {}): Promise<RedisRateLimits> {
  const redis = new Redis(TEST_REDIS_URL);
  redisClients.push(redis);
  await redis.ping();
  return new RedisRateLimits(redis, {
    prefix: `${prefix}:unit`,
    requestsPerWindow: 100,
    windowMs: 60_000,
    deploymentsPerMinute: 5,
    gitDeploymentsPerMinute: 3,
    authFailLimit: 10,
    authFailWindowMs: 60_000,
    ...options,
  });
}

const get = (instance: RunwayInstance, headers: Record<string, string>) => fetch(`${instance.url}/auth/keys`, { headers });

describe('rate limits shared through Redis', () => {
  it('limits general requests per key across both instances, with 429 and Retry-After', async () => {
    const owner = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await get(i % 2 === 0 ? first : second, { 'x-api-key': owner.apiKey })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await get(second, { 'x-api-key': owner.apiKey });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const body = (await limited.json()) as { error: { code: string; retryable: boolean } };
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    // Another key of the same user has its own budget.
    await expect.poll(() => t.db.auditLog.count({ where: { action: 'request.rate_limited', actorKeyId: owner.keyId } })).toBeGreaterThan(0);
    const other = await createKeyForUser(t.db, owner.user.id, { scopes: ['ENVIRONMENTS_READ'] });
    expect((await get(first, { 'x-api-key': other.apiKey })).status).toBe(200);
  });

  it('allows 5 deployments and 3 Git deployments a minute per key, shared by instances', async () => {
    const a = await limits();
    const b = await limits();
    const key: Principal = { userId: 'u1', role: 'USER', scopes: [], keyId: 'K'.repeat(16) };
    for (let i = 0; i < 3; i += 1) await (i % 2 ? a : b).consumeDeployment(key, 'git');
    await expect(a.consumeDeployment(key, 'git')).rejects.toMatchObject({ status: 429, details: expect.objectContaining({ limit: 'git_deployments' }) });
    await a.consumeDeployment(key, 'image');
    await b.consumeDeployment(key, 'image');
    const rejection = await a.consumeDeployment(key, 'image').catch((error: unknown) => error);
    expect(rejection).toMatchObject({ status: 429, code: 'RATE_LIMITED', details: expect.objectContaining({ limit: 'deployments' }) });
    expect((rejection as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBeGreaterThan(0);
    const otherKey: Principal = { ...key, keyId: 'L'.repeat(16) };
    await expect(b.consumeDeployment(otherKey, 'image')).resolves.toBeUndefined();
  });

  it('limits failed authentications per client address; then even a fresh valid key waits, a cached one does not', async () => {
    const cachedOwner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    expect((await get(first, { 'x-api-key': cachedOwner.apiKey })).status).toBe(200);
    const fresh = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await get(i % 2 ? first : second, { 'x-api-key': `rw_prod_${'Z'.repeat(16)}.${'z'.repeat(16)}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const blocked = await get(second, { 'x-api-key': fresh.apiKey });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get(first, { 'x-api-key': cachedOwner.apiKey })).status).toBe(200);
    await expect.poll(() => t.db.auditLog.count({ where: { action: 'request.denied', details: { path: ['reason'], equals: 'too_many_failures' } } })).toBeGreaterThan(0);
  });
});

describe('leased general limit', () => {
  it('never admits more than the limit across instances, and refuses at most lease-1 early per instance', async () => {
    const instances = [await limits({ requestsPerWindow: 1000 }), await limits({ requestsPerWindow: 1000 })];
    const key: Principal = { userId: 'u2', role: 'USER', scopes: [], keyId: 'M'.repeat(16) };
    let admitted = 0;
    let refused = 0;
    for (let i = 0; i < 1200; i += 1) {
      try {
        await instances[i % 2]?.consumeRequest(key);
        admitted += 1;
      } catch (error) {
        expect(error).toMatchObject({ status: 429 });
        refused += 1;
      }
    }
    expect(admitted).toBeLessThanOrEqual(1000);
    expect(admitted).toBeGreaterThanOrEqual(1000 - 2 * 9);
    expect(refused).toBe(1200 - admitted);
  });

  it('counts small limits exactly, request by request', async () => {
    const [a, b] = [await limits({ requestsPerWindow: 7 }), await limits({ requestsPerWindow: 7 })];
    const key: Principal = { userId: 'u3', role: 'USER', scopes: [], keyId: 'N'.repeat(16) };
    const outcomes: boolean[] = [];
    for (let i = 0; i < 9; i += 1) outcomes.push(await (i % 2 ? a : b).consumeRequest(key).then(() => true, () => false));
    expect(outcomes).toEqual([true, true, true, true, true, true, true, false, false]);
  });
});
