import type { Request } from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator } from '../../src/api/auth/api-key-authenticator.js';
import { LastUsedRecorder } from '../../src/api/auth/last-used-recorder.js';
import { VerifiedKeyCache } from '../../src/api/auth/verified-key-cache.js';
import { RedisRateLimits } from '../../src/api/rate-limit/redis-rate-limits.js';
import { AuditLog } from '../../src/core/audit-log.js';
import type { KeyVerification } from '../../src/core/access/verify-api-key.js';
import { createLogger } from '../../src/logging/logger.js';
import { createUserWithKey, testAccessUseCases } from '../support/api-keys.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let redis: Redis;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  t = await createTestDatabase('authenticator');
  redis = new Redis(TEST_REDIS_URL);
  await redis.ping();
});
afterAll(async () => {
  redis?.disconnect();
  await t?.drop();
});

function setup(options: { flushMs?: number } = {}) {
  const access = testAccessUseCases(t.db);
  let verifications = 0;
  const cache = new VerifiedKeyCache(60_000);
  const lastUsed = new LastUsedRecorder(t.db, logger, options.flushMs ?? 60_000);
  const authenticator = new ApiKeyAuthenticator({
    verify: (presented): Promise<KeyVerification> => {
      verifications += 1;
      return access.verifyKey(presented);
    },
    cache,
    rateLimits: new RedisRateLimits(redis, {
      prefix: uniquePrefix('authn'), requestsPerWindow: 10_000, windowMs: 60_000,
      deploymentsPerMinute: 5, gitDeploymentsPerMinute: 3, authFailLimit: 1000, authFailWindowMs: 60_000,
    }),
    lastUsed,
    audit: new AuditLog(t.db, logger),
    logger,
  });
  return { authenticator, cache, lastUsed, verifications: () => verifications };
}

const request = (apiKey: string) =>
  ({ headers: { 'x-api-key': apiKey }, ip: '127.0.0.9', method: 'GET', path: '/test', socket: {} }) as unknown as Request;

describe('ApiKeyAuthenticator', () => {
  it('verifies a key with bcrypt once, even for concurrent first uses, then serves it from the cache', async () => {
    const { authenticator, verifications } = setup();
    const owner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    const principals = await Promise.all(Array.from({ length: 20 }, () => authenticator.authenticate(request(owner.apiKey), 'LOGS_READ')));
    expect(new Set(principals.map((p) => p.keyId))).toEqual(new Set([owner.keyId]));
    for (let i = 0; i < 50; i += 1) await authenticator.authenticate(request(owner.apiKey), 'any');
    expect(verifications()).toBe(1);
  });

  it('keeps neither the key nor its secret in the cache: entries live under an HMAC with a per-process secret', () => {
    const a = new VerifiedKeyCache(1_000);
    const b = new VerifiedKeyCache(1_000);
    const key = 'rw_prod_AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBB';
    expect(a.fingerprint(key)).not.toContain('BBBB');
    expect(a.fingerprint(key)).toBe(a.fingerprint(key));
    expect(a.fingerprint(key)).not.toBe(b.fingerprint(key));
    a.set(a.fingerprint(key), { principal: { userId: 'u', role: 'USER', scopes: [], keyId: 'AAAAAAAAAAAAAAAA' }, apiKeyRowId: 'r', keyExpiresAt: null }, 0);
    expect(a.get(a.fingerprint(key), 999)).toBeDefined();
    expect(a.get(a.fingerprint(key), 1_000)).toBeUndefined();
    a.set(a.fingerprint(key), { principal: { userId: 'u', role: 'USER', scopes: [], keyId: 'AAAAAAAAAAAAAAAA' }, apiKeyRowId: 'r', keyExpiresAt: null });
    a.dropKey('AAAAAAAAAAAAAAAA');
    expect(a.size).toBe(0);
  });

  it('answers 403 for a missing scope and audits who was denied what', async () => {
    const { authenticator } = setup();
    const owner = await createUserWithKey(t.db, { scopes: ['DEPLOYMENTS_READ'] });
    await expect(authenticator.authenticate(request(owner.apiKey), 'DEPLOYMENTS_WRITE')).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expect
      .poll(() => t.db.auditLog.findFirst({ where: { action: 'request.denied', actorKeyId: owner.keyId } }))
      .toMatchObject({ actorUserId: owner.user.id, ip: '127.0.0.9', details: expect.objectContaining({ status: 403, requiredScope: 'DEPLOYMENTS_WRITE', path: '/test' }) });
  });

  it('keeps lastUsedAt without a write per request: batched, and flushed on stop', async () => {
    const { authenticator, lastUsed } = setup();
    const owner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    for (let i = 0; i < 5; i += 1) await authenticator.authenticate(request(owner.apiKey), 'LOGS_READ');
    const before = await t.db.apiKey.findUniqueOrThrow({ where: { keyId: owner.keyId } });
    expect(before.lastUsedAt).toBeNull();
    const usedAt = Date.now();
    await lastUsed.stop();
    const after = await t.db.apiKey.findUniqueOrThrow({ where: { keyId: owner.keyId } });
    expect(Math.abs((after.lastUsedAt?.getTime() ?? 0) - usedAt)).toBeLessThan(2_000);
  });

  it('flushes lastUsedAt on its interval, never moving it backwards', async () => {
    const { authenticator, lastUsed } = setup({ flushMs: 100 });
    lastUsed.start();
    const owner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    await authenticator.authenticate(request(owner.apiKey), 'any');
    await expect.poll(async () => (await t.db.apiKey.findUniqueOrThrow({ where: { keyId: owner.keyId } })).lastUsedAt).not.toBeNull();
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { keyId: owner.keyId } });
    lastUsed.touch(row.id, new Date(0));
    await lastUsed.stop();
    expect((await t.db.apiKey.findUniqueOrThrow({ where: { keyId: owner.keyId } })).lastUsedAt).toEqual(row.lastUsedAt);
  });
});
