import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { JobScheduler } from '../../src/scheduler/scheduled-jobs.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { uniquePrefix } from '../support/test-database.js';

const redis = new Redis(TEST_REDIS_URL);
const prefix = uniquePrefix('ticks');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('scheduled jobs across instances', () => {
  it('runs a tick once even when the second instance fires after the first finished', async () => {
    const logger = createLogger({ level: 'silent' });
    const [first, second] = [new JobScheduler(redis, prefix, logger), new JobScheduler(redis, prefix, logger)];
    let runs = 0;
    const job = { name: 'quick', schedule: '* * * * * *', lockTtlMs: 5_000, run: async () => (runs += 1) };
    const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
    await first.runOnce(job, tick);
    // The lock is free again here: only the tick claim keeps the late instance out.
    expect(await second.runOnce(job, tick)).toBeUndefined();
    expect(runs).toBe(1);
    await second.runOnce(job, new Date(tick.getTime() + 1000));
    expect(runs).toBe(2);
  });
});
