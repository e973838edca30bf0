import type { Database } from '../../db/prisma.js';
import { LABELS, type SwarmGateway } from '../../docker/swarm-gateway.js';
import type { Logger } from '../../logging/logger.js';
import { ACTIVE_STATES, IN_PROGRESS_STATES } from './deployment-states.js';
import type { DeploymentJobQueue } from './deployment-use-cases.js';
import type { FailureCleanup } from './failure-cleanup.js';

export interface MaintenanceDependencies {
  db: Database;
  gateway: SwarmGateway;
  queue: DeploymentJobQueue;
  cleanup: FailureCleanup;
  /** Docker label value of this installation: objects of others are never touched. */
  instance: string;
  deployTimeoutMs: number;
  /** Removes build directories a killed worker left behind; returns how many. */
  removeBuildLeftovers?: () => Promise<number>;
  logger: Logger;
}

const LIVE_JOB_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Nothing stuck, nothing left behind (issue 4 item 3): start-up
 * reconciliation against the queue and Swarm, the deploy-timeout watchdog and
 * the orphan clean-up. Each is safe to run on several instances at once.
 */
export class DeploymentMaintenance {
  private readonly logger: Logger;

  constructor(private readonly deps: MaintenanceDependencies) {
    this.logger = deps.logger.child({ module: 'deployment-maintenance' });
  }

  /**
   * In-progress deployments whose job is gone or finished are enqueued again
   * (the runner resumes from the row's state); a failed job fails its
   * deployment; a RUNNING deployment whose Swarm service vanished is FAILED.
   */
  async reconcile(): Promise<{ requeued: number; failed: number }> {
    const { db, queue, cleanup, gateway } = this.deps;
    let requeued = 0;
    let failed = 0;
    const inProgress = await db.deployment.findMany({ where: { status: { in: [...IN_PROGRESS_STATES] } }, select: { id: true, jobId: true } });
    for (const deployment of inProgress) {
      const state = await queue.jobState(deployment.jobId);
      if (LIVE_JOB_STATES.has(state)) continue;
      if (state === 'failed') {
        if (await cleanup.fail(deployment.id, 'its job failed while no worker was watching')) failed += 1;
        continue;
      }
      await queue.requeueDeploy(deployment.id, deployment.jobId);
      requeued += 1;
    }
    const running = await db.deployment.findMany({ where: { status: 'RUNNING' }, include: { service: true } });
    for (const deployment of running) {
      if (await gateway.inspectService(deployment.service.swarmName)) continue;
      if (await cleanup.fail(deployment.id, 'its Swarm service no longer exists')) failed += 1;
    }
    if (requeued + failed > 0) this.logger.info({ requeued, failed }, 'reconciled deployments with the queue and Swarm');
    return { requeued, failed };
  }

  /** Fails deployments that outlived DEPLOY_TIMEOUT_MS; a worker still on one stops at its next step. */
  async failOverdue(now = new Date()): Promise<number> {
    const limit = new Date(now.getTime() - this.deps.deployTimeoutMs);
    const overdue = await this.deps.db.deployment.findMany({
      where: { status: { in: [...IN_PROGRESS_STATES] }, createdAt: { lt: limit } },
      select: { id: true },
    });
    const seconds = Math.round(this.deps.deployTimeoutMs / 1000);
    let count = 0;
    for (const deployment of overdue) {
      if (await this.deps.cleanup.fail(deployment.id, `it did not finish within ${seconds}s`)) count += 1;
    }
    if (count > 0) this.logger.warn({ count }, 'watchdog failed overdue deployments');
    return count;
  }

  /**
   * Removes Docker objects carrying this installation's labels that no row
   * owns: services without a live deployment, networks of deleted
   * environments, volumes and built images left by failed deployments.
   * Volumes of deleted environments are kept: deleting those is an explicit choice.
   */
  async removeOrphans(): Promise<{ services: number; networks: number; volumes: number; images: number; buildDirs: number }> {
    const { db, gateway, instance } = this.deps;
    const managed = await gateway.listManaged({ [LABELS.instance]: instance });
    const removed = { services: 0, networks: 0, volumes: 0, images: 0, buildDirs: 0 };
    for (const service of managed.services) {
      if (await this.serviceIsOwned(service.name)) continue;
      await gateway.removeService(service.id);
      removed.services += 1;
    }
    for (const network of managed.networks) {
      if (await db.environment.findUnique({ where: { networkName: network.name }, select: { id: true } })) continue;
      await gateway.removeNetwork(network.id).then(() => (removed.networks += 1)).catch(() => undefined);
    }
    for (const volume of managed.volumes) {
      const deploymentId = volume.labels[LABELS.deployment];
      if (!deploymentId || (await db.volume.findUnique({ where: { dockerName: volume.name } }))) continue;
      const owner = await db.deployment.findUnique({ where: { id: deploymentId }, select: { status: true } });
      if (owner?.status !== 'FAILED') continue;
      await gateway.removeVolume(volume.name).then(() => (removed.volumes += 1)).catch(() => undefined);
    }
    removed.images = await this.removeFailedBuilds();
    removed.buildDirs = (await this.deps.removeBuildLeftovers?.()) ?? 0;
    if (Object.values(removed).some((count) => count > 0)) this.logger.info(removed, 'removed orphaned Docker objects');
    return removed;
  }

  /** Kept: a service with a live deployment, or one kept for debugging after its first deployment failed. */
  private async serviceIsOwned(swarmName: string): Promise<boolean> {
    const service = await this.deps.db.service.findUnique({
      where: { swarmName },
      include: { deployments: { orderBy: { createdAt: 'desc' }, take: 1, select: { status: true, keepOnFailure: true } } },
    });
    if (!service) return false;
    const latest = service.deployments[0];
    const live = await this.deps.db.deployment.count({ where: { serviceId: service.id, status: { in: [...ACTIVE_STATES] } } });
    return live > 0 || (latest?.status === 'FAILED' && latest.keepOnFailure);
  }

  /** Images built for Git deployments that failed (their clean-up may have met the image still in use). */
  private async removeFailedBuilds(): Promise<number> {
    const failed = await this.deps.db.deployment.findMany({
      where: { source: 'GIT', status: 'FAILED', keepOnFailure: false, builtImage: { not: null } },
      select: { id: true, builtImage: true },
    });
    let count = 0;
    for (const deployment of failed) {
      const image = deployment.builtImage!;
      if (!(await this.deps.gateway.imageExists(image))) continue;
      await this.deps.gateway.removeImage(image).then(() => (count += 1)).catch(() => undefined);
    }
    return count;
  }
}
