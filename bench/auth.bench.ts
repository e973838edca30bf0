/**
 * Issue 3: authenticated GET throughput as a ratio of an unauthenticated
 * trivial route (target >= 0.8), measured side by side in one run, and the
 * cost of a key's first use (bcrypt compare) against a cached use.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'express';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createApp } from '../src/api/app.js';
import { ApiKeyAuthenticator } from '../src/api/auth/api-key-authenticator.js';
import { LastUsedRecorder } from '../src/api/auth/last-used-recorder.js';
import { VerifiedKeyCache } from '../src/api/auth/verified-key-cache.js';
import { createOpenApiRegistry } from '../src/api/openapi-registry.js';
import { RedisRateLimits } from '../src/api/rate-limit/redis-rate-limits.js';
import { defineRoute } from '../src/api/route-builder.js';
import { AuditLog } from '../src/core/audit-log.js';
import { createLogger } from '../src/logging/logger.js';
import { createKeyForUser, createUserWithKey, testAccessUseCases } from '../test/support/api-keys.js';
import { TEST_REDIS_URL } from '../test/support/services.js';
import { createTestDatabase, uniquePrefix } from '../test/support/test-database.js';
import { median } from './bench-stats.js';
import type { BenchFigure } from './run.js';

/** Short alternating rounds, so load from other processes hits both sides alike. */
const ROUND_SECONDS = 2;
const ROUNDS = 6;

async function requestsPerSecond(url: string, headers: Record<string, string>): Promise<number> {
  // One worker thread drives the load, so the client does not share the server's event loop.
  const result = await autocannon({ url, headers, connections: 32, pipelining: 1, duration: ROUND_SECONDS, workers: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}


export default async function authBench(): Promise<BenchFigure[]> {
  const t = await createTestDatabase('bench_auth');
  const redis = new Redis(TEST_REDIS_URL);
  await redis.ping();
  const logger = createLogger({ level: 'silent' });
  const access = testAccessUseCases(t.db);
  const cache = new VerifiedKeyCache(300_000);
  const lastUsed = new LastUsedRecorder(t.db, logger, 30_000);
  const authenticator = new ApiKeyAuthenticator({
    verify: (presented) => access.verifyKey(presented),
    cache,
    // The real shared limit (one Redis round trip per request), set high enough not to trigger.
    rateLimits: new RedisRateLimits(redis, {
      prefix: uniquePrefix('bench'), requestsPerWindow: 1e9, windowMs: 60_000,
      deploymentsPerMinute: 5, gitDeploymentsPerMinute: 3, authFailLimit: 1e6, authFailWindowMs: 60_000,
    }),
    lastUsed,
    audit: new AuditLog(t.db, logger),
    logger,
  });
  const app = createApp({
    logger, registry: createOpenApiRegistry(), version: 'bench', publicUrl: 'http://127.0.0.1', bodyLimit: '10kb',
    mounts: [
      (router, registry) => {
        const trivial = { summary: 'bench', responses: { 200: { description: 'ok' } }, handler: async () => ({ status: 200, body: { ok: true } }) };
        defineRoute(router, registry, authenticator, { ...trivial, method: 'get', path: '/bench/public', access: 'public' });
        defineRoute(router, registry, authenticator, { ...trivial, method: 'get', path: '/bench/private', access: 'ENVIRONMENTS_READ' });
      },
    ],
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const owner = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
    const publicRates: number[] = [];
    const privateRates: number[] = [];
    await requestsPerSecond(`${base}/bench/public`, {}); // warm-up
    for (let round = 0; round < ROUNDS; round += 1) {
      publicRates.push(await requestsPerSecond(`${base}/bench/public`, {}));
      privateRates.push(await requestsPerSecond(`${base}/bench/private`, { 'x-api-key': owner.apiKey }));
    }
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const ratio = sum(privateRates) / sum(publicRates);

    // First use (bcrypt compare + lookup) against a cached use, through the authenticator itself.
    const fresh = await Promise.all(Array.from({ length: 8 }, () => createKeyForUser(t.db, owner.user.id, { scopes: ['ENVIRONMENTS_READ'] })));
    const fakeRequest = (apiKey: string) => ({ headers: { 'x-api-key': apiKey }, ip: '127.0.0.1', method: 'GET', path: '/bench', socket: {} }) as unknown as Request;
    const firstUse: number[] = [];
    for (const key of fresh) {
      const started = process.hrtime.bigint();
      await authenticator.authenticate(fakeRequest(key.apiKey), 'ENVIRONMENTS_READ');
      firstUse.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const cachedUse: number[] = [];
    for (let i = 0; i < 2_000; i += 1) {
      const started = process.hrtime.bigint();
      await authenticator.authenticate(fakeRequest(fresh[i % fresh.length]?.apiKey ?? ''), 'ENVIRONMENTS_READ');
      cachedUse.push(Number(process.hrtime.bigint() - started) / 1e3);
    }
    return [
      { name: 'unauthenticated GET (trivial route)', value: Math.round(median(publicRates)), unit: 'req/s', note: `median of ${ROUNDS} x ${ROUND_SECONDS}s, 32 connections` },
      { name: 'authenticated GET (same route, X-API-Key, scope + shared rate limit)', value: Math.round(median(privateRates)), unit: 'req/s' },
      { name: 'authenticated / unauthenticated throughput', value: Number(ratio.toFixed(3)), unit: 'ratio', note: `target >= 0.8; total over ${ROUNDS} alternating rounds each` },
      { name: 'key first use (lookup + bcrypt compare, cost 10)', value: Number(median(firstUse).toFixed(1)), unit: 'ms', note: 'median of 8 fresh keys' },
      { name: 'key cached use (HMAC lookup, scope, leased rate limit)', value: Number(median(cachedUse).toFixed(0)), unit: 'us', note: 'median of 2000' },
    ];
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await lastUsed.stop();
    redis.disconnect();
    await t.drop();
  }
}
