import type { Redis } from 'ioredis';
import { mountDeploymentRoutes } from '../api/routes/deployment-routes.js';
import { mountEnvironmentRoutes } from '../api/routes/environment-routes.js';
import type { Config } from '../config/config.js';
import { DeploymentLogs } from '../core/deployments/deployment-logs.js';
import { DeploymentMaintenance } from '../core/deployments/deployment-maintenance.js';
import { DeploymentManagement } from '../core/deployments/deployment-management.js';
import { DeploymentRunner, type GitImageBuilder } from '../core/deployments/deployment-runner.js';
import { DeploymentTransitions } from '../core/deployments/deployment-transitions.js';
import { StartDeployment } from '../core/deployments/deployment-use-cases.js';
import { FailureCleanup } from '../core/deployments/failure-cleanup.js';
import { EnvironmentHooks, type EnvironmentDeletingHook } from '../core/environments/environment-hooks.js';
import { EnvironmentUseCases } from '../core/environments/environment-use-cases.js';
import { serviceLimitsFromConfig } from '../core/service-options-schema.js';
import type { Database } from '../db/prisma.js';
import { DockerodeSwarmGateway } from '../docker/dockerode-swarm-gateway.js';
import type { SwarmGateway } from '../docker/swarm-gateway.js';
import type { EventPublisher } from '../events/runway-event.js';
import type { Logger } from '../logging/logger.js';
import type { ProcessContext } from '../runtime.js';
import { BullDeploymentQueue } from './deployment-queue.js';
import { DeploymentWorker } from './deployment-worker.js';
import { createBuildLeftoverCleaner, createGitImageBuilder } from './git-image-builder.js';
import { watchWorker } from '../metrics/queue-metrics.js';

/** The use cases REST routes, chat bots and workers share (ProcessContext.deployments). */
export interface DeploymentFeature {
  environments: EnvironmentUseCases;
  starter: StartDeployment;
  deployments: DeploymentManagement;
  logs: DeploymentLogs;
  maintenance: DeploymentMaintenance;
  /** Other modules hook environment deletion here (the HTTPS module drops Nginx routes). */
  hooks: EnvironmentHooks;
  queue: BullDeploymentQueue;
  gateway: SwarmGateway;
}

export interface DeploymentFeatureInput {
  config: Config;
  db: Database;
  /** A connection with maxRetriesPerRequest null, as BullMQ wants. */
  connection: Redis;
  events: EventPublisher;
  logger: Logger;
  gateway: SwarmGateway;
  buildImage: GitImageBuilder;
}

/** Builds every use case of issue 4 from its dependencies (also used directly by tests). */
export function createDeploymentFeature(input: DeploymentFeatureInput): DeploymentFeature & { runner: DeploymentRunner; cleanup: FailureCleanup } {
  const { config, db, gateway, logger } = input;
  const transitions = new DeploymentTransitions(db, input.events, logger.child({ module: 'deployment-transitions' }));
  const queue = new BullDeploymentQueue(input.connection, config.REDIS_PREFIX);
  const cleanup = new FailureCleanup(db, gateway, transitions, logger.child({ module: 'deployment-cleanup' }));
  const starter = new StartDeployment({ db, queue, transitions, logger });
  const hooks = new EnvironmentHooks();
  const runner = new DeploymentRunner({
    db,
    gateway,
    transitions,
    buildImage: input.buildImage,
    swarm: {
      instance: config.REDIS_PREFIX,
      endpointMode: config.SWARM_ENDPOINT_MODE,
      publishMode: config.SWARM_PUBLISH_MODE,
      cpu: config.SWARM_DEFAULT_CPU,
      memoryMb: config.SWARM_DEFAULT_MEMORY_MB,
    },
    pullPolicy: config.DEFAULT_PULL_POLICY,
    convergeTimeoutMs: config.SERVICE_CONVERGE_TIMEOUT_MS,
    stableMs: config.SERVICE_STABLE_MS,
    logger,
  });
  return {
    environments: new EnvironmentUseCases({ db, gateway, transitions, hooks, instance: config.REDIS_PREFIX, logger: logger.child({ module: 'environments' }) }),
    starter,
    deployments: new DeploymentManagement({ db, gateway, transitions, starter }),
    logs: new DeploymentLogs(db, gateway),
    maintenance: new DeploymentMaintenance({ db, gateway, queue, cleanup, instance: config.REDIS_PREFIX, deployTimeoutMs: config.DEPLOY_TIMEOUT_MS, removeBuildLeftovers: createBuildLeftoverCleaner(config), logger }),
    hooks,
    queue,
    gateway,
    runner,
    cleanup,
  };
}

/** Starts a deployment worker of this feature (the worker role, or a test's own worker). */
export function startDeploymentWorker(feature: ReturnType<typeof createDeploymentFeature>, input: Pick<DeploymentFeatureInput, 'config' | 'db' | 'connection' | 'logger'>): DeploymentWorker {
  const { config } = input;
  return new DeploymentWorker(
    { db: input.db, gateway: feature.gateway, runner: feature.runner, cleanup: feature.cleanup, logger: input.logger },
    {
      connection: input.connection,
      prefix: config.REDIS_PREFIX,
      concurrency: config.DEPLOY_WORKER_CONCURRENCY,
      lockDurationMs: config.QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: config.QUEUE_STALLED_INTERVAL_MS,
    },
  );
}

/**
 * Registers issue 4 in one process: routes when it serves the API; the
 * worker, the start-up reconciliation and the scheduled watchdog and
 * clean-up when it runs workers. Call after the access module.
 */
export function registerDeploymentModule(ctx: ProcessContext, options: { onEnvironmentDeleting?: EnvironmentDeletingHook } = {}): DeploymentFeature {
  const { config, db, redis, docker, logger } = ctx.infra;
  const log = logger.child({ module: 'deployments' });
  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  const gateway = new DockerodeSwarmGateway(docker, { logger: log });
  const feature = createDeploymentFeature({
    config, db, connection, events: ctx.events, logger: log, gateway,
    buildImage: createGitImageBuilder(gateway, config, docker),
  });
  if (options.onEnvironmentDeleting) feature.hooks.onDeleting(options.onEnvironmentDeleting);
  ctx.components.push({ name: 'deployment-queue', stop: async () => { await feature.queue.close(); connection.disconnect(); } });

  if (ctx.servesApi) {
    const authenticator = ctx.authenticator!;
    const rateLimits = ctx.rateLimits;
    ctx.mounts.push((router, registry) => {
      mountEnvironmentRoutes(router, registry, { environments: feature.environments, authenticator });
      mountDeploymentRoutes(router, registry, {
        starter: feature.starter,
        deployments: feature.deployments,
        logs: feature.logs,
        authenticator,
        limits: serviceLimitsFromConfig(config),
        allowFileGitUrls: config.ALLOW_FILE_GIT_URLS,
        limitDeployments: rateLimits ? (principal, kind) => rateLimits.consumeDeployment(principal, kind) : undefined,
      });
    });
  }
  if (ctx.runsWorkers) {
    const worker = startDeploymentWorker(feature, { config, db, connection, logger: log });
    watchWorker(ctx.metrics, worker.worker);
    ctx.components.push({ name: 'deployment-worker', stop: () => worker.close() });
    // Under the scheduler's lock: workers starting together reconcile once.
    void ctx.scheduler.runOnce({ name: 'deployment-reconcile', schedule: '', lockTtlMs: 5 * 60_000, run: () => feature.maintenance.reconcile() });
    ctx.scheduler.add({ name: 'deployment-watchdog', schedule: '*/30 * * * * *', lockTtlMs: 60_000, run: () => feature.maintenance.failOverdue() });
    ctx.scheduler.add({ name: 'deployment-orphan-cleanup', schedule: '0 */10 * * * *', lockTtlMs: 5 * 60_000, run: () => feature.maintenance.removeOrphans() });
  }
  return feature;
}
