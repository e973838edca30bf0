import { UnrecoverableError, type Job } from 'bullmq';
import type { Database } from '../db/prisma.js';
import type { SwarmGateway } from '../docker/swarm-gateway.js';
import { ACTIVE_STATES } from '../core/deployments/deployment-states.js';
import { DeploymentAborted, DeploymentFailure } from '../core/deployments/deployment-failure.js';
import type { DeploymentRunner } from '../core/deployments/deployment-runner.js';
import type { FailureCleanup } from '../core/deployments/failure-cleanup.js';
import type { Logger } from '../logging/logger.js';
import type { DeploymentJobData } from './deployment-jobs.js';

export interface DeployProcessorDependencies {
  db: Database;
  gateway: SwarmGateway;
  runner: DeploymentRunner;
  cleanup: FailureCleanup;
  logger: Logger;
}

/**
 * The `deploy` job: runs the deployment and tells the queue the truth.
 * Permanent failures end FAILED (what was created is removed) and the job
 * fails without retry; transient ones are retried with backoff, and the last
 * attempt fails the deployment, so nothing is left in a non-terminal state.
 */
export async function processDeploy(job: Job<DeploymentJobData<'deploy'>>, deps: DeployProcessorDependencies, signal?: AbortSignal): Promise<string> {
  const { deploymentId } = job.data;
  const log = deps.logger.child({ deploymentId, jobId: job.id, attempt: job.attemptsMade + 1 });
  try {
    const status = await deps.runner.run(deploymentId, signal);
    log.info({ status }, 'deployment processed');
    return status;
  } catch (error) {
    if (error instanceof DeploymentAborted) {
      await settleAborted(deps, deploymentId);
      log.info({ status: error.status }, 'deployment ended elsewhere; work stopped');
      return error.status;
    }
    if (error instanceof DeploymentFailure) {
      log.info({ reason: error.message }, 'deployment failed');
      await deps.cleanup.fail(deploymentId, error.message);
      throw new UnrecoverableError(error.message);
    }
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    log.warn({ err: error, lastAttempt }, 'deployment attempt hit a transient error');
    if (lastAttempt && !signal?.aborted) {
      await deps.cleanup.fail(deploymentId, `gave up after ${job.attemptsMade + 1} attempts: ${(error as Error).message}`);
      throw new UnrecoverableError((error as Error).message);
    }
    throw error;
  }
}

/** Whoever ended it removed what they knew of; remove what this worker may have created since. */
async function settleAborted(deps: DeployProcessorDependencies, deploymentId: string): Promise<void> {
  const deployment = await deps.db.deployment.findUnique({ where: { id: deploymentId }, include: { service: true } });
  if (!deployment) return;
  if (deployment.status === 'FAILED') return deps.cleanup.cleanUp(deploymentId);
  const live = await deps.db.deployment.count({ where: { serviceId: deployment.serviceId, status: { in: [...ACTIVE_STATES] } } });
  if (live === 0) await deps.gateway.removeService(deployment.service.swarmName);
}
