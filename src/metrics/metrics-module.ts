import type { ProcessContext } from '../runtime.js';
import { databaseCheck, dockerCheck, redisCheck } from '../health/health-checks.js';
import { registerDatabaseGauges } from './database-gauges.js';
import { DeploymentEventMetrics } from './deployment-event-metrics.js';
import { mountMetricsRoute } from './metrics-endpoint.js';
import { startMetricsServer } from './metrics-server.js';
import { registerQueueDepth } from './queue-metrics.js';
import { DEPLOYMENT_QUEUE } from '../queue/deployment-jobs.js';
import { DOMAIN_QUEUE } from '../https/domain-jobs.js';
import { Queue } from 'bullmq';

/**
 * Plugs metrics into one process.
 *
 * - API processes: `GET /metrics` (the request middleware is an app-level
 *   observer passed to createApp in runtime.ts).
 * - Worker processes: the deployment event consumer (shared consumer group,
 *   so each event is counted once across the installation), and, when no API
 *   is served, a small listener on METRICS_PORT with `/metrics` and `/health`.
 */
export async function registerMetrics(ctx: ProcessContext): Promise<void> {
  const { metrics, infra } = ctx;
  const { config, logger } = infra;
  registerDatabaseGauges(metrics, infra.db);
  registerQueueMetrics(ctx);

  if (ctx.servesApi) {
    // The request middleware itself is an app-level observer (runtime.ts), so parser errors count too.
    ctx.mounts.push((router, registry) => mountMetricsRoute(router, registry, metrics, config.METRICS_TOKEN));
  }

  if (ctx.runsWorkers) {
    const consumer = new DeploymentEventMetrics({
      metrics,
      events: ctx.events,
      redis: infra.redis.duplicate(),
      db: infra.db,
      logger: logger.child({ module: 'deployment-metrics' }),
    });
    await consumer.start();
    ctx.components.push({ name: 'deployment-metrics', stop: () => consumer.stop() });
  }

  if (!ctx.servesApi) {
    const listener = await startMetricsServer({
      metrics,
      token: config.METRICS_TOKEN,
      checks: { database: databaseCheck(infra.db), redis: redisCheck(infra.redis), docker: dockerCheck(infra.docker) },
      port: config.METRICS_PORT,
      host: config.HOST,
      logger: logger.child({ module: 'metrics-server' }),
    });
    ctx.components.push({ name: 'metrics-server', stop: () => listener.stop() });
  }
}

/**
 * Queue depth of every Runway queue, read at scrape time through Queue
 * handles of our own (one lazy connection). Job durations come from each
 * module's worker (watchWorker in the deployment and HTTPS modules).
 */
function registerQueueMetrics(ctx: ProcessContext): void {
  const { config, redis } = ctx.infra;
  const connection = redis.duplicate({ maxRetriesPerRequest: null, lazyConnect: true });
  const queues = [DEPLOYMENT_QUEUE, DOMAIN_QUEUE].map((name) => new Queue(name, { connection, prefix: config.REDIS_PREFIX }));
  registerQueueDepth(ctx.metrics, queues);
  ctx.components.push({
    name: 'queue-metrics',
    stop: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
    },
  });
}
