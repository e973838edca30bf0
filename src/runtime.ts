import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Docker from 'dockerode';
import { Redis } from 'ioredis';
import { createApp, type RouteMount } from './api/app.js';
import { createOpenApiRegistry } from './api/openapi-registry.js';
import { mountSystemRoutes } from './api/routes/system-routes.js';
import type { Config } from './config/config.js';
import { createDatabase, type Database } from './db/prisma.js';
import { createDockerClient } from './docker/docker-client.js';
import { databaseCheck, diskCheck, dockerCheck, memoryCheck, redisCheck } from './health/health-checks.js';
import type { RequestAuthenticator } from './api/route-builder.js';
import { registerAccessModule } from './api/auth/access-module.js';
import type { RateLimits } from './api/rate-limit/redis-rate-limits.js';
import type { AccessUseCases } from './core/access/access-use-cases.js';
import { RedisEventStream } from './events/redis-event-stream.js';
import type { Logger } from './logging/logger.js';
import { JobScheduler } from './scheduler/scheduled-jobs.js';
import { registerHttpsModule } from './https/https-module.js';
import { registerDeploymentModule, type DeploymentFeature } from './queue/deployment-module.js';
import { registerChatModule } from './bot/chat-module.js';
import { httpMetricsMiddleware } from './metrics/http-metrics.js';
import { registerMetrics } from './metrics/metrics-module.js';
import { RunwayMetrics } from './metrics/runway-metrics.js';
import { VERSION } from './version.js';

/** Which parts this process runs (SPEC section 8). */
export type Role = 'all' | 'api' | 'worker';

/** Long-lived clients shared by every part of one process. */
export interface Infrastructure {
  config: Config;
  logger: Logger;
  db: Database;
  redis: Redis;
  docker: Docker;
}

export interface Component {
  name: string;
  stop(): Promise<void>;
}

/**
 * What a feature module gets to plug itself into one process: it adds route
 * mounts (used when the process serves the API), background components and
 * scheduled jobs (when it runs workers).
 */
export interface ProcessContext {
  infra: Infrastructure;
  role: Role;
  servesApi: boolean;
  runsWorkers: boolean;
  events: RedisEventStream;
  scheduler: JobScheduler;
  mounts: RouteMount[];
  components: Component[];
  /** Set by the access module; routes with access other than 'public' need it. */
  authenticator?: RequestAuthenticator;
  /** Set by the access module: magic links and keys, for bots (createMagicLink/listKeys/revokeKey) and the CLI. */
  access?: AccessUseCases;
  /** Set by the access module: per-key limits shared via Redis; deployment routes call consumeDeployment. */
  rateLimits?: RateLimits;
  /** Set by the deployments module: environments and deployments use cases, for bots (/deploy, /status, /logs, /rollback, /envs, /env_create). */
  deployments?: DeploymentFeature;
  /** This process's metrics registry; modules record into it (e.g. the notifier via recordNotification). */
  metrics: RunwayMetrics;
}

export interface Runtime {
  infra: Infrastructure;
  /** Set when the process serves the API. */
  server?: Server;
  url?: string;
  stop(): Promise<void>;
}

export function createInfrastructure(config: Config, logger: Logger): Infrastructure {
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: false,
    // Fail commands fast while Redis is down instead of queueing them forever;
    // the connection itself keeps retrying, so Runway recovers on its own.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  redis.on('error', (error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  return {
    config,
    logger,
    db: createDatabase(config.DATABASE_URL),
    redis,
    docker: createDockerClient({
      dockerHost: config.DOCKER_HOST,
      tlsVerify: config.DOCKER_TLS_VERIFY,
      certPath: config.DOCKER_CERT_PATH,
    }),
  };
}

function systemRoutes(infra: Infrastructure): RouteMount {
  const checks = {
    database: databaseCheck(infra.db),
    redis: redisCheck(infra.redis),
    docker: dockerCheck(infra.docker),
    disk: diskCheck(infra.config.RUNWAY_STATE_DIR, 512 * 1024 * 1024),
    memory: memoryCheck(128 * 1024 * 1024),
  };
  return (router, registry) => mountSystemRoutes(router, registry, { version: VERSION, checks });
}

/** Each feature module registers itself here, in dependency order. */
async function registerModules(ctx: ProcessContext): Promise<void> {
  // First, so every later module can record into ctx.metrics.
  await registerMetrics(ctx);
  ctx.mounts.push(systemRoutes(ctx.infra));
  // Before every module with authenticated routes: sets ctx.authenticator and ctx.rateLimits.
  await registerAccessModule(ctx);
  // Public HTTPS (issue 5); its removeEnvironmentRoutes is for the environments module's delete hook.
  const https = registerHttpsModule(ctx);
  // Deployments and environments (issue 4); deleting an environment drops its Nginx routes.
  ctx.deployments = registerDeploymentModule(ctx, {
    onEnvironmentDeleting: async (environment) => void (await https.removeEnvironmentRoutes(environment.id)),
  });
  // Chat bots and the deploy-status notifier (issue 6): after access and deployments, whose use cases they call.
  registerChatModule(ctx);
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://${address.address === '0.0.0.0' ? '127.0.0.1' : address.address}:${address.port}`;
}

/**
 * Wires and starts one Runway process. Every client is built here and passed
 * down; nothing below holds a module-level singleton.
 */
export async function startRuntime(config: Config, logger: Logger, role: Role): Promise<Runtime> {
  const infra = createInfrastructure(config, logger);
  const ctx: ProcessContext = {
    infra,
    role,
    servesApi: role === 'all' || role === 'api',
    runsWorkers: role === 'all' || role === 'worker',
    events: new RedisEventStream(infra.redis, { prefix: config.REDIS_PREFIX }),
    scheduler: new JobScheduler(infra.redis, config.REDIS_PREFIX, logger.child({ module: 'scheduler' })),
    mounts: [],
    metrics: new RunwayMetrics({ defaultLabels: { role } }),
    components: [],
  };
  await registerModules(ctx);
  const components = ctx.components;
  components.unshift({ name: 'scheduler', stop: () => ctx.scheduler.stop() });
  let server: Server | undefined;
  let url: string | undefined;

  if (ctx.servesApi) {
    const app = createApp({
      logger,
      registry: createOpenApiRegistry(),
      mounts: ctx.mounts,
      version: VERSION,
      publicUrl: config.PUBLIC_URL,
      bodyLimit: config.BODY_LIMIT,
      trustProxy: config.TRUST_PROXY,
      observers: [httpMetricsMiddleware(ctx.metrics)],
    });
    server = createServer(app);
    url = await listen(server, config.PORT, config.HOST);
    logger.info({ url, role }, 'API listening');
    const api = server;
    components.push({
      name: 'api',
      stop: () =>
        new Promise<void>((resolve) => {
          // Finish in-flight requests; idle keep-alive sockets would hold close() open.
          api.close(() => resolve());
          api.closeIdleConnections();
          // Streams that never finish on their own (log follow over SSE) are cut after a grace period.
          setTimeout(() => api.closeAllConnections(), 5_000).unref();
        }),
    });
  }

  return {
    infra,
    server,
    url,
    async stop() {
      for (const component of components.reverse()) {
        await component.stop().catch((error) => logger.error({ err: error, component: component.name }, 'stop failed'));
      }
      await infra.db.$disconnect();
      infra.redis.disconnect();
    },
  };
}
