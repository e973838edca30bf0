/**
 * Reads a service's state and tasks into one verdict: has the deployment
 * converged (desired tasks running, healthy where checked, update finished),
 * is it still progressing, or has it failed (Swarm rolled back, or its tasks
 * keep failing)? Pure, so the real gateway and the fake agree by construction.
 */
import { LABELS, type ServiceState, type TaskState } from './swarm-gateway.js';

export interface RolloutStatus {
  phase: 'converged' | 'progressing' | 'failed';
  running: number;
  desired: number;
  /** For failed (and for progressing when a task already failed): the task's own error. */
  reason?: string;
}

export interface RolloutOptions {
  /** Tasks of this deployment count as current (LABELS.deployment); else tasks running the service's image. */
  deploymentId?: string;
  /** Failed tasks of the current version after which the rollout is failed (RestartPolicy MaxAttempts). */
  maxFailedTasks?: number;
  /**
   * A task counts as running only after it has stayed running this long. A
   * command that crashes at once is briefly "running" to Swarm; on a first
   * deployment (no update monitor) this window is what catches it. Default 0.
   */
  minStableMs?: number;
  /** Clock for minStableMs (tests). */
  now?: number;
}

const FAILED_TASK_STATES = new Set(['failed', 'rejected', 'orphaned']);
const ROLLBACK_STATES = new Set(['rollback_started', 'rollback_paused', 'rollback_completed', 'paused']);

/** Human-readable reason of a failed task: its error, exit code and message. */
export function describeTaskFailure(task: TaskState): string {
  const parts = [task.error ?? task.message ?? `task ${task.state}`];
  if (task.exitCode !== undefined && task.exitCode !== 0 && !parts[0]?.includes(`(${task.exitCode})`)) parts.push(`exit code ${task.exitCode}`);
  if (task.health === 'unhealthy') parts.push('health check failing');
  return parts.join(', ');
}

export function assessRollout(service: ServiceState, tasks: TaskState[], options: RolloutOptions = {}): RolloutStatus {
  const isCurrent = (task: TaskState) =>
    options.deploymentId !== undefined ? task.labels[LABELS.deployment] === options.deploymentId : task.image === service.image;
  const current = tasks.filter(isCurrent).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const stableBefore = (options.now ?? Date.now()) - (options.minStableMs ?? 0);
  const running = current.filter(
    (task) =>
      task.state === 'running' &&
      task.desiredState === 'running' &&
      task.health !== 'unhealthy' &&
      task.health !== 'starting' &&
      Date.parse(task.updatedAt) <= stableBefore,
  ).length;
  const failed = current.filter((task) => FAILED_TASK_STATES.has(task.state));
  // A task Swarm cannot place stays pending with its reason (e.g. "no suitable node ...").
  const unplaced = current.find((task) => task.state === 'pending' && task.error);
  const reason = failed[0] ? describeTaskFailure(failed[0]) : unplaced?.error;
  const base = { running, desired: service.replicas, ...(reason ? { reason } : {}) };

  if (service.updateState !== undefined && ROLLBACK_STATES.has(service.updateState)) {
    const why = [service.updateMessage, reason].filter(Boolean).join(': ');
    return { ...base, phase: 'failed', reason: why || 'Swarm rolled the update back' };
  }
  if (failed.length >= (options.maxFailedTasks ?? 3)) return { ...base, phase: 'failed', reason: reason ?? 'tasks keep failing' };
  // on-failure does not restart a task that exited 0, so such a service never comes back.
  const exited = current.find((task) => task.state === 'complete');
  if (exited && running < service.replicas) return { ...base, phase: 'failed', reason: 'the container exited with code 0; a service must keep running' };
  const updateDone = service.updateState === undefined || service.updateState === 'completed';
  if (running >= service.replicas && updateDone) return { ...base, phase: 'converged' };
  return { ...base, phase: 'progressing' };
}
