import { setTimeout as sleep } from 'node:timers/promises';
import { assessRollout } from '../../docker/rollout-status.js';
import { LABELS, type SwarmGateway, type TaskState } from '../../docker/swarm-gateway.js';
import { DeploymentFailure } from './deployment-failure.js';

export interface ConvergenceOptions {
  serviceId: string;
  /** Tasks labelled with this deployment are the new version; rollback tasks carry the old label. */
  deploymentId: string;
  timeoutMs: number;
  /** Failed tasks of the new version after which waiting is pointless (RestartPolicy MaxAttempts). */
  maxFailedTasks?: number;
  /**
   * How long the new tasks must have been running: a command that crashes
   * right after start is briefly `running` in Swarm (SERVICE_STABLE_MS).
   */
  stableMs?: number;
  /** Whether the spec has a health check: failures then say whether it ever passed. */
  hasHealthcheck?: boolean;
  /** Ends the wait early (worker shutting down); throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Waits until Swarm reports the desired tasks of this deployment running
 * (Swarm holds a task in `starting` until its health check passes) and any
 * update finished, or throws a DeploymentFailure with the task's own error:
 * after repeated task failures, a rollback of an update, or the timeout.
 */
export async function waitForConvergence(gateway: SwarmGateway, options: ConvergenceOptions): Promise<void> {
  const started = Date.now();
  let lastReason: string | undefined;
  let sawUnhealthy = false;
  let sawRunning = false;
  const healthNote = () =>
    sawUnhealthy || (options.hasHealthcheck && !sawRunning) ? '; the health check never passed' : '';
  for (let round = 0; ; round += 1) {
    options.signal?.throwIfAborted();
    const service = await gateway.inspectService(options.serviceId);
    if (!service) throw new DeploymentFailure('The service was removed while it was starting');
    const tasks = await gateway.listTasks(options.serviceId);
    const current = tasks.filter((task) => task.labels[LABELS.deployment] === options.deploymentId);
    sawUnhealthy ||= current.some((task) => task.health === 'unhealthy');
    sawRunning ||= current.some((task) => task.state === 'running');
    const status = assessRollout(service, tasks, { deploymentId: options.deploymentId, maxFailedTasks: options.maxFailedTasks ?? 3 });
    if (status.phase === 'converged') {
      const wait = remainingStability(tasks, options.deploymentId, options.stableMs ?? 0);
      if (wait <= 0) return;
      await sleep(Math.min(wait, 100));
      continue;
    }
    if (status.phase === 'failed') throw new DeploymentFailure(`The service did not start: ${status.reason}${healthNote()}`);
    lastReason = status.reason ?? lastReason;
    if (Date.now() - started > options.timeoutMs) {
      const waited = Math.round(options.timeoutMs / 1000);
      const detail = lastReason ?? `${status.running} of ${status.desired} tasks running`;
      throw new DeploymentFailure(`The service did not start within ${waited}s: ${detail}${healthNote()}`);
    }
    // Poll fast at first: most services start within a second (deploy overhead benchmark).
    await sleep(round < 40 ? 50 : 250);
  }
}

/** Milliseconds until every running task of the deployment has run for `stableMs` (Swarm's own status times). */
function remainingStability(tasks: TaskState[], deploymentId: string, stableMs: number): number {
  if (stableMs <= 0) return 0;
  const since = tasks
    .filter((task) => task.labels[LABELS.deployment] === deploymentId && task.state === 'running')
    .map((task) => Date.parse(task.updatedAt))
    .filter((time) => !Number.isNaN(time));
  if (since.length === 0) return 0;
  return Math.max(...since) + stableMs - Date.now();
}
