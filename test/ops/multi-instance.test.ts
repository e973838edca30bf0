import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, type UserWithKey } from '../support/api-keys.js';
import { TEST_DOCKER_SOCKET, TEST_IMAGE, TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { promSum } from '../metrics/prom-text.js';
import { apiCall } from './api-client.js';
import { spawnRunway, type RunwayProcess } from './runway-process.js';

/**
 * SPEC section 8 / issue 7: two `runway api` and two `runway worker`
 * processes against one PostgreSQL schema and one Redis prefix.
 */
const ALL_SCOPES = ['ENVIRONMENTS_READ', 'ENVIRONMENTS_WRITE', 'DEPLOYMENTS_READ', 'DEPLOYMENTS_WRITE', 'LOGS_READ'] as const;

let database: TestDatabase;
let redis: Redis;
let nginxDir: string;
const prefix = uniquePrefix('multi');
const processes: RunwayProcess[] = [];
let apis: RunwayProcess[];
let workers: RunwayProcess[];
/** Scheduler lock acquisitions seen on Redis: job name and arrival time. */
const lockAcquisitions: { job: string; at: number }[] = [];
let subscriber: Redis;
let previousKeyspaceEvents = '';

beforeAll(async () => {
  database = await createTestDatabase('multi');
  redis = new Redis(TEST_REDIS_URL);
  nginxDir = await mkdtemp(join(tmpdir(), 'rw-multi-nginx-'));

  // Watch the scheduler's per-run locks being taken (a successful SET NX is one run).
  previousKeyspaceEvents = ((await redis.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
  const wanted = new Set([...previousKeyspaceEvents, 'K', '$']);
  await redis.config('SET', 'notify-keyspace-events', [...wanted].join(''));
  subscriber = new Redis(TEST_REDIS_URL);
  await subscriber.psubscribe(`__keyspace@0__:${prefix}:lock:job:*`);
  subscriber.on('pmessage', (_pattern, channel: string, event: string) => {
    if (event === 'set') lockAcquisitions.push({ job: channel.split(':lock:job:')[1] ?? channel, at: Date.now() });
  });

  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    RUNWAY_STATE_DIR: '/tmp',
    LOG_LEVEL: 'info',
    RATE_LIMIT_MAX: '20',
    // Nothing here publishes a domain; keep the real Nginx and its directories out of it.
    NGINX_BIN: '/bin/true',
    NGINX_SITES_DIR: join(nginxDir, 'sites'),
    NGINX_CERTS_DIR: join(nginxDir, 'certs'),
    NGINX_ACME_WEBROOT: join(nginxDir, 'webroot'),
    // Fires every second on both workers: each tick must run on one of them only.
    NGINX_SYNC_SCHEDULE: '* * * * * *',
    SERVICE_CONVERGE_TIMEOUT_MS: '60000',
  };
  const started = await Promise.all([
    spawnRunway('api', env),
    spawnRunway('api', env),
    spawnRunway('worker', env),
    spawnRunway('worker', env),
  ]);
  processes.push(...started);
  apis = started.filter((p) => p.role === 'api');
  workers = started.filter((p) => p.role === 'worker');
}, 180_000);

afterAll(async () => {
  const codes = await Promise.all(processes.map((p) => p.stop()));
  expect(codes.every((code) => code === 0), `exit codes ${codes.join(',')}`).toBe(true);
  const docker = new Docker({ socketPath: TEST_DOCKER_SOCKET });
  const services = await docker.listServices({ filters: { label: [`io.runway.instance=${prefix}`] } });
  await Promise.all(services.map((service) => docker.getService(service.ID).remove().catch(() => undefined)));
  await subscriber?.punsubscribe();
  subscriber?.disconnect();
  await redis.config('SET', 'notify-keyspace-events', previousKeyspaceEvents);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await rm(nginxDir, { recursive: true, force: true });
  await database?.drop();
}, 120_000);

describe('two API processes and two workers on one database and Redis', () => {
  let deployer: UserWithKey;
  let environmentId: string;

  it('shares the deployment rate limit, and processes every deployment exactly once', async () => {
    deployer = await createUserWithKey(database.db, { scopes: [...ALL_SCOPES] });
    const created = await apiCall(apis[0]!.url, deployer.apiKey, 'POST', '/environments', { name: 'multi' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    environmentId = created.body.id as string;

    // SPEC: 5 deployments a minute per key, shared by all instances; alternate between the two APIs.
    const answers = [];
    for (let i = 0; i < 6; i += 1) {
      answers.push(
        await apiCall(apis[i % 2]!.url, deployer.apiKey, 'POST', '/deployments', {
          environmentId, image: TEST_IMAGE.split(':')[0], tag: '1', name: `svc${i}`, command: 'sleep 3600',
        }),
      );
    }
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429]);
    expect(Number(answers[5]!.headers.get('retry-after'))).toBeGreaterThan(0);
    const ids = answers.slice(0, 5).map((a) => a.body.deploymentId as string);

    await expect
      .poll(async () => (await database.db.deployment.findMany({ where: { id: { in: ids } } })).map((d) => d.status).sort().join(','), {
        timeout: 90_000,
        interval: 500,
      })
      .toBe('RUNNING,RUNNING,RUNNING,RUNNING,RUNNING');

    // Processed once: one transition into each state per deployment...
    for (const id of ids) {
      const transitions = await database.db.deploymentTransition.findMany({ where: { deploymentId: id }, orderBy: { at: 'asc' } });
      const states = transitions.map((t) => t.toStatus);
      expect(new Set(states).size, `${id}: ${states.join(' > ')}`).toBe(states.length);
      expect(states.at(-1)).toBe('RUNNING');
    }
    // ...and one completed job in total across the two workers' own metrics.
    const scrapes = await Promise.all(workers.map((w) => fetch(`${w.url}/metrics`).then((r) => r.text())));
    const completed = scrapes.map((text) => promSum(text, 'runway_queue_job_duration_seconds_count', { queue: 'deployments', outcome: 'completed' }));
    expect(completed.reduce((a, b) => a + b, 0)).toBe(5);
    // Deployment events are counted once across the installation too (one consumer group).
    await expect
      .poll(async () => {
        const texts = await Promise.all(workers.map((w) => fetch(`${w.url}/metrics`).then((r) => r.text())));
        return texts.reduce((sum, text) => sum + promSum(text, 'runway_deployment_transitions_total', { state: 'RUNNING' }), 0);
      }, { timeout: 10_000 })
      .toBe(5);
  });

  it('refuses a key revoked through one API on the other at the next request', async () => {
    const holder = await createUserWithKey(database.db, { scopes: ['DEPLOYMENTS_READ'] });
    // Warm the second instance's verified-key cache first: revocation must beat the cache.
    expect((await apiCall(apis[1]!.url, holder.apiKey, 'GET', '/auth/keys')).status).toBe(200);
    expect((await apiCall(apis[1]!.url, holder.apiKey, 'GET', '/auth/keys')).status).toBe(200);
    const revoked = await apiCall(apis[0]!.url, holder.apiKey, 'POST', '/auth/revoke', { keyId: holder.keyId });
    expect(revoked.status).toBe(200);
    const after = await apiCall(apis[1]!.url, holder.apiKey, 'GET', '/auth/keys');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHORIZED');
  });

  it('shares the general request limit across instances', async () => {
    const caller = await createUserWithKey(database.db, { scopes: ['ENVIRONMENTS_READ'] });
    const statuses: number[] = [];
    for (let i = 0; i < 24; i += 1) statuses.push((await apiCall(apis[i % 2]!.url, caller.apiKey, 'GET', '/environments')).status);
    // RATE_LIMIT_MAX=20 per key and window, counted in Redis: 20 pass in total, not 20 per instance.
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
  });

  it('runs each scheduled job once per tick, not once per worker', async () => {
    const since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const ticks = new Map<number, number>();
    for (const { job, at } of lockAcquisitions) {
      if (job !== 'nginx-route-sync' || at < since) continue;
      const second = Math.floor(at / 1000);
      ticks.set(second, (ticks.get(second) ?? 0) + 1);
    }
    expect(ticks.size).toBeGreaterThanOrEqual(5);
    expect([...ticks.entries()].filter(([, runs]) => runs > 1)).toEqual([]);
  });

  it('cleans up through either API', async () => {
    const removed = await apiCall(apis[1]!.url, deployer.apiKey, 'DELETE', `/environments/${environmentId}`);
    expect([200, 202, 204]).toContain(removed.status);
  });
});
