import { Queue, type ConnectionOptions } from 'bullmq';
import type { DeploymentJobQueue } from '../core/deployments/deployment-use-cases.js';
import { DEPLOYMENT_JOB_OPTIONS, DEPLOYMENT_QUEUE, type DeploymentJob } from './deployment-jobs.js';

/** The producer side: the API process adds jobs, workers (any process) take them. */
export class BullDeploymentQueue implements DeploymentJobQueue {
  readonly queue: Queue<DeploymentJob['data'], unknown, DeploymentJob['name']>;

  constructor(connection: ConnectionOptions, prefix: string) {
    this.queue = new Queue(DEPLOYMENT_QUEUE, { connection, prefix, defaultJobOptions: DEPLOYMENT_JOB_OPTIONS });
  }

  /** The BullMQ job id is the deployment's jobId, so a job can be found from the row and back. */
  async enqueueDeploy(deploymentId: string, jobId: string): Promise<void> {
    await this.queue.add('deploy', { deploymentId }, { jobId });
  }

  jobState(jobId: string): Promise<string> {
    return this.queue.getJobState(jobId);
  }

  async requeueDeploy(deploymentId: string, jobId: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    if (job && !(await job.isActive())) await job.remove();
    await this.enqueueDeploy(deploymentId, jobId);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
