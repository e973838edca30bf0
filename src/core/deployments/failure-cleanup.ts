import type { Database } from '../../db/prisma.js';
import { LABELS, type SwarmGateway } from '../../docker/swarm-gateway.js';
import type { Logger } from '../../logging/logger.js';
import { removeVolumeWithRetry } from '../environments/volume-removal.js';
import type { StoredServiceOptions } from './deployment-request.js';
import { canTransition } from './deployment-states.js';
import type { DeploymentTransitions } from './deployment-transitions.js';
import { captureLogTail } from './failure-log-tail.js';

/**
 * Ends a deployment FAILED and removes what it created (SPEC section 3):
 * a first deployment's service (unless keepOnFailure), volumes it created,
 * the image it built. An update that failed is rolled back to the version
 * that was serving, which keeps serving. Every step is idempotent, so the
 * worker, the watchdog and the start-up reconciliation may all call it.
 */
export class FailureCleanup {
  constructor(
    private readonly db: Database,
    private readonly gateway: SwarmGateway,
    private readonly transitions: DeploymentTransitions,
    private readonly logger: Logger,
    /** How long Swarm gets to start its own rollback of a failed update. */
    private readonly swarmRollbackWaitMs = 15_000,
  ) {}

  /** Returns false when the deployment had already ended (nothing done). */
  async fail(deploymentId: string, reason: string): Promise<boolean> {
    const current = await this.db.deployment.findUnique({ where: { id: deploymentId }, include: { service: true } });
    if (!current || !canTransition(current.status, 'FAILED')) return false;
    // The clean-up removes the service and its logs with it: keep the last lines for the user first.
    const envVars = (current.spec as StoredServiceOptions | null)?.envVars;
    const logTail = await captureLogTail(this.gateway, { serviceRef: current.service.swarmServiceId ?? current.service.swarmName, since: current.createdAt, envVars });
    // Clean first: whoever sees FAILED (the user polling, the notifier) sees it with nothing left behind.
    await this.cleanUp(deploymentId);
    return this.transitions.transition(deploymentId, 'FAILED', reason, { errorMessage: reason, ...(logTail ? { logTail } : {}) });
  }

  async cleanUp(deploymentId: string): Promise<void> {
    const deployment = await this.db.deployment.findUnique({ where: { id: deploymentId }, include: { service: true } });
    if (!deployment) return;
    const replaced = deployment.service.currentDeploymentId !== null && deployment.service.currentDeploymentId !== deployment.id;
    const keep = deployment.keepOnFailure && !replaced;
    const log = this.logger.child({ deploymentId, replaced, keep });
    try {
      if (replaced) await this.restorePrevious(deployment.service.swarmName, deployment.id);
      else if (!keep) await this.gateway.removeService(deployment.service.swarmName);
      if (keep) return;
      const volumes = await this.db.volume.findMany({ where: { createdByDeploymentId: deployment.id } });
      for (const volume of volumes) {
        if (await removeVolumeWithRetry(this.gateway, volume.dockerName)) await this.db.volume.delete({ where: { id: volume.id } });
      }
      if (deployment.source === 'GIT' && deployment.builtImage) {
        await this.gateway.removeImage(deployment.builtImage).catch((error) => log.debug({ err: error }, 'built image not removed yet'));
      }
    } catch (error) {
      // The scheduled clean-up removes what is left; the deployment stays FAILED either way.
      log.warn({ err: error }, 'clean-up after a failed deployment was incomplete');
    }
  }

  /**
   * Rolls the service back unless Swarm does it itself. A failed update makes
   * Swarm roll back on its own (FailureAction rollback); asking for a rollback
   * while that starts would roll forward to the failed spec again, so wait for
   * Swarm to move first and step in only when it stays stuck on our spec.
   */
  private async restorePrevious(swarmName: string, deploymentId: string): Promise<void> {
    const deadline = Date.now() + this.swarmRollbackWaitMs;
    for (;;) {
      const service = await this.gateway.inspectService(swarmName);
      if (!service) return;
      // A rollback swaps the labels back at once, so look at it before them.
      if (service.updateState?.startsWith('rollback')) return this.seeRollbackThrough(service.id, deploymentId);
      if (service.labels[LABELS.deployment] !== deploymentId) return;
      if (Date.now() >= deadline || service.updateState === 'paused' || service.updateState === 'completed') {
        this.logger.info({ deploymentId, updateState: service.updateState }, 'rolling the service back to the version that served');
        await this.gateway.rollbackService(service.id);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /**
   * Swarm's stop-first rollback can deadlock with a host-mode port: the
   * restart policy re-creates a task of the failed version that never gets
   * the port (the rolled-back task reserved it), and the updater waits forever
   * for that pending task to stop before it starts the previous version
   * (reproduced with the plain docker CLI on Engine 20.10). Replacing the
   * tasks of the now-restored spec frees it at once.
   */
  private async seeRollbackThrough(serviceId: string, deploymentId: string): Promise<void> {
    const deadline = Date.now() + this.swarmRollbackWaitMs;
    while (Date.now() < deadline) {
      const service = await this.gateway.inspectService(serviceId);
      if (!service || service.updateState !== 'rollback_started') return;
      const tasks = await this.gateway.listTasks(serviceId);
      if (tasks.some((task) => task.desiredState === 'shutdown' && task.state === 'pending')) {
        this.logger.warn({ deploymentId }, 'Swarm rollback stuck behind a pending task; replacing the tasks of the restored version');
        await this.gateway.restartService(serviceId);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
