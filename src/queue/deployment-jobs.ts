import type { DefaultJobOptions } from 'bullmq';

/** The deployments queue; BullMQ's `prefix` option carries config REDIS_PREFIX. */
export const DEPLOYMENT_QUEUE = 'deployments';

/** One payload per job name (a discriminated union, STYLE.md example 6). */
export type DeploymentJob = { name: 'deploy'; data: { deploymentId: string } };

export type DeploymentJobName = DeploymentJob['name'];
export type DeploymentJobData<N extends DeploymentJobName> = Extract<DeploymentJob, { name: N }>['data'];

/**
 * Transient trouble (Docker or PostgreSQL briefly away) is retried with
 * backoff; permanent failures end the job at once (UnrecoverableError).
 */
export const DEPLOYMENT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
