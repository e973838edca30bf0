import cron, { type ScheduledTask } from 'node-cron';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { withRedisLock } from './redis-lock.js';

export interface ScheduledJob {
  /** Unique name; also the lock key. */
  name: string;
  /** node-cron expression (seconds field allowed). */
  schedule: string;
  /** Longest the job may hold the lock; set above its worst-case run time. */
  lockTtlMs: number;
  run(): Promise<unknown>;
}

/**
 * node-cron fires on every instance; a Redis lock per run makes each job
 * execute on one instance at a time (issues 3 and 5). Errors are logged, never
 * thrown out of the timer.
 */
export class JobScheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly logger: Logger) {}

  add(job: ScheduledJob): void {
    const task = cron.schedule(job.schedule, (context) => {
      const run = this.runOnce(job, context.date);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }, { name: job.name, noOverlap: true });
    this.tasks.push(task);
  }

  /**
   * Runs a job now under its lock; returns undefined if another instance holds it.
   * With `tick` (the cron fire time, the same on every instance) the first
   * instance to claim that tick runs it and the others skip it: the lock alone
   * lets a late instance run a short job a second time once the first released it.
   */
  async runOnce(job: ScheduledJob, tick?: Date): Promise<unknown> {
    try {
      if (tick) {
        const claimKey = `${this.prefix}:tick:job:${job.name}:${tick.getTime()}`;
        if ((await this.redis.set(claimKey, '1', 'PX', Math.max(job.lockTtlMs, 60_000), 'NX')) !== 'OK') return undefined;
      }
      return await withRedisLock(this.redis, `${this.prefix}:lock:job:${job.name}`, job.lockTtlMs, () => job.run());
    } catch (error) {
      this.logger.error({ err: error, job: job.name }, 'scheduled job failed');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.stop();
    await Promise.allSettled([...this.running]);
  }
}
