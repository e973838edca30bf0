import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import { processDeploy, type DeployProcessorDependencies } from './deploy-processor.js';
import { DEPLOYMENT_QUEUE, type DeploymentJob } from './deployment-jobs.js';

export interface DeploymentWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  /**
   * A killed worker's lock expires after lockDuration; the next stalled check
   * (every stalledInterval) of any live worker hands the job back to the queue
   * once, and fails it the second time (maxStalledCount 1), so a job is never
   * stuck for longer than about 2 x (lockDuration + stalledInterval).
   */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long close() lets in-flight jobs finish before handing them back. */
  shutdownGraceMs?: number;
}

/** One small processor per job name. */
function dispatch(job: Job<DeploymentJob['data'], unknown, DeploymentJob['name']>, deps: DeployProcessorDependencies, signal: AbortSignal) {
  switch (job.name) {
    case 'deploy':
      return processDeploy(job, deps, signal);
    default:
      throw new Error(`unknown job name ${String(job.name)}`);
  }
}

/** A BullMQ worker of the deployments queue, with its stalled-job handling and graceful close. */
export class DeploymentWorker {
  readonly worker: Worker<DeploymentJob['data'], unknown, DeploymentJob['name']>;
  private readonly abort = new AbortController();
  private readonly logger: Logger;

  constructor(private readonly deps: DeployProcessorDependencies, private readonly options: DeploymentWorkerOptions) {
    this.logger = deps.logger.child({ module: 'deployment-worker' });
    this.worker = new Worker(DEPLOYMENT_QUEUE, (job) => dispatch(job, deps, this.abort.signal), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: 1,
    });
    this.worker.on('failed', (job, error) => void this.onFailed(job, error));
    this.worker.on('stalled', (jobId) => this.logger.warn({ jobId }, 'job stalled (its worker died?); handed back to the queue'));
    // Background loops emit errors rather than throw (STYLE.md); log them.
    this.worker.on('error', (error) => this.logger.error({ err: error }, 'deployment worker error'));
  }

  /** A job the stalled checker failed never reached our processor: end its deployment here. */
  private async onFailed(job: Job<DeploymentJob['data']> | undefined, error: Error): Promise<void> {
    if (!job?.data?.deploymentId) return;
    try {
      // 'failed' fires for every failed attempt; only a job that will not be retried ends its deployment.
      if (!(await job.isFailed())) return;
      const moved = await this.deps.cleanup.fail(job.data.deploymentId, `the deployment job failed: ${error.message}`);
      if (moved) this.logger.warn({ jobId: job.id, reason: error.message }, 'deployment failed by the queue');
    } catch (failure) {
      this.logger.error({ err: failure, jobId: job.id }, 'could not fail the deployment of a failed job');
    }
  }

  /** Lets in-flight jobs finish for a grace period, then aborts them so they go back to the queue. */
  async close(): Promise<void> {
    const timer = setTimeout(() => this.abort.abort(new Error('worker shutting down')), this.options.shutdownGraceMs ?? 10_000);
    try {
      await this.worker.close();
    } finally {
      clearTimeout(timer);
    }
  }
}
