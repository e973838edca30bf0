/**
 * The domain work queue: the API records intent and enqueues; the worker on
 * the edge node (the one that runs Nginx) routes and certifies. One job at a
 * time per worker, so Nginx applies never interleave inside a process.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { DomainActivator } from '../core/domains/activate-domain.js';
import type { DomainWork } from '../core/domains/domain-work.js';
import type { RouteSync } from '../core/domains/route-sync.js';
import type { Logger } from '../logging/logger.js';

export const DOMAIN_QUEUE = 'domains';

export type DomainJob = { name: 'activate'; data: { domainId: string } } | { name: 'sync'; data: Record<string, never> };

const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 500 },
} as const;

export class BullDomainWork implements DomainWork {
  readonly queue: Queue;

  constructor(connection: ConnectionOptions, prefix: string) {
    this.queue = new Queue(DOMAIN_QUEUE, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
  }

  async activate(domainId: string): Promise<void> {
    await this.queue.add('activate', { domainId });
  }

  async sync(): Promise<void> {
    await this.queue.add('sync', {});
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface DomainWorkerDeps {
  activator: DomainActivator;
  routes: RouteSync;
  logger: Logger;
}

function dispatch(job: Job, deps: DomainWorkerDeps): Promise<unknown> {
  switch (job.name as DomainJob['name']) {
    case 'activate':
      return deps.activator.activate((job.data as { domainId: string }).domainId);
    case 'sync':
      return deps.routes.sync();
    default:
      throw new Error(`unknown domain job ${job.name}`);
  }
}

export function startDomainWorker(deps: DomainWorkerDeps, connection: ConnectionOptions, prefix: string): Worker {
  const worker = new Worker(DOMAIN_QUEUE, (job) => dispatch(job, deps), { connection, prefix, concurrency: 1 });
  worker.on('error', (error) => deps.logger.error({ err: error }, 'domain worker error'));
  worker.on('failed', (job, error) => deps.logger.error({ err: error, job: job?.name, data: job?.data }, 'domain job failed'));
  return worker;
}
