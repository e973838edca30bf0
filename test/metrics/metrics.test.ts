import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createOpenApiRegistry } from '../../src/api/openapi-registry.js';
import { defineRoute } from '../../src/api/route-builder.js';
import { RedisEventStream } from '../../src/events/redis-event-stream.js';
import { createLogger } from '../../src/logging/logger.js';
import { registerDatabaseGauges } from '../../src/metrics/database-gauges.js';
import { DeploymentEventMetrics } from '../../src/metrics/deployment-event-metrics.js';
import { httpMetricsMiddleware } from '../../src/metrics/http-metrics.js';
import { mountMetricsRoute } from '../../src/metrics/metrics-endpoint.js';
import { startMetricsServer } from '../../src/metrics/metrics-server.js';
import { registerQueueDepth, watchWorker } from '../../src/metrics/queue-metrics.js';
import { RunwayMetrics } from '../../src/metrics/runway-metrics.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { promSample } from './prom-text.js';
import { seedDeployment } from './seed.js';

const logger = createLogger({ level: 'silent' });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('RunwayMetrics', () => {
  it('keeps each instance on its own registry', async () => {
    const first = new RunwayMetrics({ processMetrics: true });
    const second = new RunwayMetrics({ processMetrics: true });
    first.recordHttpRequest({ method: 'GET', route: '/x', status: 200, durationSeconds: 0.01 });
    expect(promSample((await first.render()).body, 'runway_http_requests_total', { route: '/x' })).toBe(1);
    expect(promSample((await second.render()).body, 'runway_http_requests_total', { route: '/x' })).toBeUndefined();
    expect((await second.render()).body).toContain('runway_process_resident_memory_bytes');
  });

  it('records notification latency and failures', async () => {
    const metrics = new RunwayMetrics({ processMetrics: false });
    metrics.recordNotification({ channel: 'telegram', ok: true, latencySeconds: 0.2 });
    metrics.recordNotification({ channel: 'telegram', ok: false });
    const text = (await metrics.render()).body;
    expect(promSample(text, 'runway_notifications_total', { channel: 'telegram', outcome: 'sent' })).toBe(1);
    expect(promSample(text, 'runway_notifications_total', { channel: 'telegram', outcome: 'failed' })).toBe(1);
    expect(promSample(text, 'runway_notification_latency_seconds_count', { channel: 'telegram' })).toBe(1);
  });
});

describe('HTTP metrics and GET /metrics', () => {
  let server: Server;
  let url: string;
  const metrics = new RunwayMetrics({ processMetrics: false });

  beforeAll(async () => {
    const app = createApp({
      logger,
      registry: createOpenApiRegistry(),
      version: 'test',
      publicUrl: 'http://127.0.0.1',
      bodyLimit: '10kb',
      observers: [httpMetricsMiddleware(metrics)],
      mounts: [
        (router, registry) => mountMetricsRoute(router, registry, metrics, 's3cret-token'),
        (router, registry) =>
          defineRoute(router, registry, undefined, {
            method: 'get',
            path: '/things/:id',
            summary: 'test',
            access: 'public',
            responses: { 200: { description: 'ok' } },
            handler: async ({ params }) => ({ status: 200, body: params }),
          }),
      ],
    });
    server = createServer(app);
    url = await listen(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('labels requests by route pattern, never by raw URL', async () => {
    await fetch(`${url}/things/abc`);
    await fetch(`${url}/things/def?token=secret`);
    await fetch(`${url}/nowhere/42`);
    // Refused by the body parser before any route: still counted.
    await fetch(`${url}/things/abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    await fetch(`${url}/things/abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(20_000) }) });
    const text = (await metrics.render()).body;
    expect(promSample(text, 'runway_http_requests_total', { route: '/things/:id', status: '200' })).toBe(2);
    expect(promSample(text, 'runway_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(promSample(text, 'runway_http_requests_total', { method: 'POST', route: 'other', status: '400' })).toBe(1);
    expect(promSample(text, 'runway_http_requests_total', { method: 'POST', route: 'other', status: '413' })).toBe(1);
    expect(text).not.toContain('abc');
    expect(text).not.toContain('secret');
  });

  it('refuses a scrape without the token in the SPEC error shape', async () => {
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: unknown }).error).toMatchObject({ code: 'UNAUTHORIZED', details: {}, retryable: false });
    const wrong = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('serves Prometheus text with the token', async () => {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE runway_http_request_duration_seconds histogram');
    expect(text).toMatch(/runway_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/things\/:id",status="200"\} \d/);
  });
});

describe('metrics from PostgreSQL, Redis and BullMQ', () => {
  let database: TestDatabase;
  let redis: Redis;
  const prefix = uniquePrefix('metrics');

  beforeAll(async () => {
    database = await createTestDatabase('metrics');
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await database.drop();
  });

  it('reports deployments by state and certificate expiry from the database', async () => {
    const metrics = new RunwayMetrics({ processMetrics: false });
    registerDatabaseGauges(metrics, database.db);
    const running = await seedDeployment(database.db, { status: 'RUNNING' });
    await seedDeployment(database.db, { status: 'FAILED', userId: running.userId });
    const expiresAt = new Date('2031-01-02T03:04:05Z');
    const domain = await database.db.domain.create({
      data: { id: nanoid(), environmentId: running.environmentId, serviceId: running.serviceId, hostname: 'shop.example.test', port: 80 },
    });
    await database.db.certificate.create({ data: { id: nanoid(), domainId: domain.id, status: 'VALID', expiresAt } });
    const text = (await metrics.render()).body;
    expect(promSample(text, 'runway_deployments', { state: 'RUNNING' })).toBe(1);
    expect(promSample(text, 'runway_deployments', { state: 'FAILED' })).toBe(1);
    expect(promSample(text, 'runway_certificate_expiry_timestamp_seconds', { hostname: 'shop.example.test' })).toBe(expiresAt.getTime() / 1000);
  });

  it('counts a failing collector instead of failing the scrape', async () => {
    const metrics = new RunwayMetrics({ processMetrics: false });
    metrics.addScrapeGauge({ name: 'runway_broken', help: 'x', labelNames: ['a'] as const, read: async () => { throw new Error('db down'); } });
    await metrics.render();
    // Collectors run concurrently within one scrape, so the failure shows from the next one.
    const text = (await metrics.render()).body;
    expect(promSample(text, 'runway_metrics_collect_errors_total', { collector: 'runway_broken' })).toBe(1);
  });

  it('turns deployment events into transition counts and durations, each event once across consumers', async () => {
    const events = new RedisEventStream(redis, { prefix });
    const [one, two] = [new RunwayMetrics({ processMetrics: false }), new RunwayMetrics({ processMetrics: false })];
    const consumers = [one, two].map(
      (metrics, index) =>
        new DeploymentEventMetrics({ metrics, events, redis: redis.duplicate(), db: database.db, logger, consumer: `c${index}`, blockMs: 200 }),
    );
    for (const consumer of consumers) await consumer.start();
    const created = new Date(Date.now() - 3_000);
    const deployment = await seedDeployment(database.db, { status: 'RUNNING', createdAt: created });
    await database.db.deploymentTransition.create({
      data: { id: nanoid(), deploymentId: deployment.id, fromStatus: 'PULLING_IMAGE', toStatus: 'STARTING_CONTAINERS', at: new Date(created.getTime() + 1_000) },
    });
    const base = { type: 'deployment.state' as const, deploymentId: deployment.id, jobId: deployment.jobId, ownerId: deployment.userId,
      environmentId: deployment.environmentId, environmentName: 'e', serviceName: 's', source: 'local/busybox:1', reason: undefined };
    await events.publish({ ...base, fromState: 'PENDING', state: 'PULLING_IMAGE', at: new Date(created.getTime() + 500).toISOString() });
    await events.publish({ ...base, fromState: 'STARTING_CONTAINERS', state: 'RUNNING', at: new Date(created.getTime() + 3_000).toISOString() });

    const total = async (name: string, labels: Record<string, string>) => {
      let sum = 0;
      for (const metrics of [one, two]) sum += promSample((await metrics.render()).body, name, labels) ?? 0;
      return sum;
    };
    await expect.poll(() => total('runway_deployment_duration_seconds_count', { outcome: 'RUNNING', source: 'IMAGE' }), { timeout: 5_000 }).toBe(1);
    expect(await total('runway_deployment_transitions_total', { state: 'RUNNING' })).toBe(1);
    expect(await total('runway_deployment_transitions_total', { state: 'PULLING_IMAGE' })).toBe(1);
    expect(await total('runway_deployment_duration_seconds_count', { outcome: 'RUNNING', source: 'IMAGE' })).toBe(1);
    expect(await total('runway_deployment_duration_seconds_sum', { outcome: 'RUNNING' })).toBeCloseTo(3, 1);
    expect(await total('runway_deployment_state_duration_seconds_sum', { state: 'STARTING_CONTAINERS' })).toBeCloseTo(2, 1);
    for (const consumer of consumers) await consumer.stop();
  });

  it('reports queue depth and job durations from BullMQ', async () => {
    const metrics = new RunwayMetrics({ processMetrics: false });
    const connection = { url: TEST_REDIS_URL };
    const queue = new Queue('metrics-test', { connection, prefix });
    registerQueueDepth(metrics, [queue]);
    await queue.add('slow', {}, { delay: 60_000 });
    await queue.add('quick', {});
    await queue.add('quick', {});
    expect(promSample((await metrics.render()).body, 'runway_queue_jobs', { queue: 'metrics-test', state: 'waiting' })).toBe(2);

    const worker = new Worker('metrics-test', async (job) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (job.name === 'quick' && job.id === '3') throw new Error('boom');
    }, { connection, prefix });
    watchWorker(metrics, worker);
    await expect.poll(async () => promSample((await metrics.render()).body, 'runway_queue_job_duration_seconds_count', { name: 'quick', outcome: 'completed' }), { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => promSample((await metrics.render()).body, 'runway_queue_job_duration_seconds_count', { name: 'quick', outcome: 'failed' }), { timeout: 10_000 }).toBe(1);
    const text = (await metrics.render()).body;
    expect(promSample(text, 'runway_queue_job_duration_seconds_sum', { name: 'quick', outcome: 'completed' })).toBeGreaterThanOrEqual(0.04);
    expect(promSample(text, 'runway_queue_jobs', { queue: 'metrics-test', state: 'delayed' })).toBe(1);
    expect(promSample(text, 'runway_queue_jobs', { queue: 'metrics-test', state: 'failed' })).toBe(1);
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('serves /metrics and /health from a worker-only listener', async () => {
    const metrics = new RunwayMetrics({ processMetrics: false });
    metrics.recordJob({ queue: 'q', name: 'n', outcome: 'completed', durationSeconds: 1 });
    const listener = await startMetricsServer({
      metrics, token: undefined, port: 0, host: '127.0.0.1', logger,
      checks: { redis: async () => ({ ok: redis.status === 'ready' }), broken: async () => ({ ok: false, detail: 'down' }) },
    });
    try {
      const scrape = await fetch(`${listener.url}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('runway_queue_job_duration_seconds_count{queue="q",name="n",outcome="completed"} 1');
      const health = await fetch(`${listener.url}/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { failing: string[] }).failing).toEqual(['broken']);
      expect((await fetch(`${listener.url}/other`)).status).toBe(404);
    } finally {
      await listener.stop();
    }
  });
});
