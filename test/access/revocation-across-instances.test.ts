import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AccessUseCases } from '../../src/core/access/access-use-cases.js';
import { RedisRevocationChannel } from '../../src/api/auth/revocation-channel.js';
import { createLogger } from '../../src/logging/logger.js';
import { createKeyForUser, createUserWithKey, testAccessUseCases } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let first: RunwayInstance;
let second: RunwayInstance;
let redis: Redis;
const prefix = uniquePrefix('revoke');

beforeAll(async () => {
  t = await createTestDatabase('revoke');
  // Two API processes' worth of runtime sharing one database and one Redis, as behind a load balancer.
  const env = { DATABASE_URL: t.url, REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '10000' };
  first = await startRunway(env);
  second = await startRunway(env);
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await first?.stop();
  await second?.stop();
  await t?.drop();
});

const listKeys = (instance: RunwayInstance, apiKey: string) =>
  fetch(`${instance.url}/auth/keys`, { headers: { 'x-api-key': apiKey } }).then((res) => res.status);

describe('revocation and expiry reach every API instance', () => {
  it('a key revoked on one instance fails on the other at the very next request', async () => {
    const owner = await createUserWithKey(t.db, { scopes: ['DEPLOYMENTS_READ'] });
    const other = await createKeyForUser(t.db, owner.user.id, { scopes: ['DEPLOYMENTS_READ'] });
    // Both instances have verified (and cached) the key.
    expect(await listKeys(first, other.apiKey)).toBe(200);
    expect(await listKeys(second, other.apiKey)).toBe(200);
    const revoke = await fetch(`${first.url}/auth/revoke`, {
      method: 'POST',
      headers: { 'x-api-key': owner.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ keyId: other.keyId }),
    });
    expect(revoke.status).toBe(200);
    expect(await listKeys(second, other.apiKey)).toBe(401);
    expect(await listKeys(first, other.apiKey)).toBe(401);
    expect(await listKeys(second, owner.apiKey)).toBe(200);
  });

  it('a key revoked from outside the API (a bot in a worker, the CLI) fails at once on both instances', async () => {
    const owner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    expect(await listKeys(first, owner.apiKey)).toBe(200);
    expect(await listKeys(second, owner.apiKey)).toBe(200);
    const bot = new AccessUseCases({
      ...testAccessUseCases(t.db).deps,
      revocations: new RedisRevocationChannel(redis, prefix, createLogger({ level: 'silent' })),
    });
    await bot.revokeKey({ userId: owner.user.id, role: 'USER', scopes: [] }, owner.keyId);
    expect(await listKeys(second, owner.apiKey)).toBe(401);
    expect(await listKeys(first, owner.apiKey)).toBe(401);
  });

  it('an expired key fails on both instances at the first request after its expiry, though cached', async () => {
    // Room for two first uses (bcrypt) on a loaded machine before the expiry.
    const expiresAt = new Date(Date.now() + 5_000);
    const owner = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'], expiresAt });
    expect(await listKeys(first, owner.apiKey)).toBe(200);
    expect(await listKeys(second, owner.apiKey)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 50));
    expect(await listKeys(second, owner.apiKey)).toBe(401);
    expect(await listKeys(first, owner.apiKey)).toBe(401);
  });

  it('an instance that lost the revocation channel stops trusting its cache, so a missed message cannot keep a key alive', async () => {
    const owner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    expect(await listKeys(first, owner.apiKey)).toBe(200);
    expect(await listKeys(second, owner.apiKey)).toBe(200);
    // Revoked behind the channel's back: the caches do not know.
    await t.db.apiKey.update({ where: { keyId: owner.keyId }, data: { revokedAt: new Date() } });
    expect(await listKeys(second, owner.apiKey)).toBe(200);
    const clients = String(await redis.client('LIST')).split('\n');
    const ids = clients.filter((line) => line.includes(`name=${prefix}:access:key-revoked:subscriber`)).map((line) => /id=(\d+)/.exec(line)?.[1]);
    expect(ids).toHaveLength(2);
    for (const id of ids) await redis.client('KILL', 'ID', id as string);
    await expect.poll(() => listKeys(second, owner.apiKey)).toBe(401);
    expect(await listKeys(first, owner.apiKey)).toBe(401);
    // After the subscribers are back, caching and revocation by message work again.
    await expect.poll(async () => String(await redis.client('LIST')).split(`name=${prefix}:access:key-revoked:subscriber`).length - 1).toBe(2);
    const other = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    expect(await listKeys(second, other.apiKey)).toBe(200);
    await fetch(`${first.url}/auth/revoke`, {
      method: 'POST',
      headers: { 'x-api-key': other.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ keyId: other.keyId }),
    });
    expect(await listKeys(second, other.apiKey)).toBe(401);
  });
});
