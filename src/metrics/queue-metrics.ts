import type { Job, Queue, Worker } from 'bullmq';
import type { RunwayMetrics } from './runway-metrics.js';

/** BullMQ job states reported as queue depth. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/**
 * Queue depth per queue and state, read from Redis at scrape time. Depth is
 * installation-wide: aggregate with `max` across instances.
 */
export function registerQueueDepth(metrics: RunwayMetrics, queues: Pick<Queue, 'name' | 'getJobCounts'>[]): void {
  metrics.addScrapeGauge({
    name: 'runway_queue_jobs',
    help: 'Jobs per queue and state (installation-wide; aggregate with max across instances)',
    labelNames: ['queue', 'state'] as const,
    read: async () => {
      const samples = await Promise.all(
        queues.map(async (queue) => {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          return QUEUE_STATES.map((state) => ({ labels: { queue: queue.name, state }, value: counts[state] ?? 0 }));
        }),
      );
      return samples.flat();
    },
  });
}

function secondsBetween(from: number | undefined, to: number | undefined): number | undefined {
  return from !== undefined && to !== undefined ? (to - from) / 1000 : undefined;
}

/**
 * Job durations as this process's worker saw them; each job is processed by
 * one worker, so `sum` across instances is the total.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any job payload
export function watchWorker(metrics: RunwayMetrics, worker: Worker<any, any, any>): void {
  const record = (job: Job | undefined, outcome: 'completed' | 'failed') => {
    if (!job) return;
    metrics.recordJob({
      queue: worker.name,
      name: job.name,
      outcome,
      durationSeconds: secondsBetween(job.processedOn, job.finishedOn ?? Date.now()),
      // A failed job retried later would count its wait again; count waits on the first attempt only.
      waitSeconds: job.attemptsStarted <= 1 ? secondsBetween(job.timestamp, job.processedOn) : undefined,
    });
  };
  worker.on('completed', (job) => record(job, 'completed'));
  worker.on('failed', (job) => record(job, 'failed'));
}
