import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { sleepUnless } from '../notify/chat-sender.js';

const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LeaderLeaseOptions {
  /** How long the lease outlives its holder; a crashed holder is replaced after this. */
  ttlMs: number;
}

/** Something that runs only while this process leads. */
export interface Led {
  start(): Promise<void> | void;
  stop(): Promise<void>;
}

/**
 * One leader among worker processes, by a Redis key with a renewed expiry.
 * Chat bots need it: two Telegram long-pollers make Telegram answer 409, two
 * Discord gateways would answer each interaction twice, and two notifiers
 * would race to send the same first message. Other workers wait and take
 * over within `ttlMs` when the leader dies or loses Redis.
 */
export class LeaderLease {
  private readonly token = randomBytes(16).toString('hex');
  private stopped = false;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  leading = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly led: Led,
    private readonly logger: Logger,
    private readonly options: LeaderLeaseOptions = { ttlMs: 15_000 },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.loop;
    if (this.leading) await this.stepDown();
    await this.redis.eval(RELEASE_SCRIPT, 1, this.key, this.token).catch(() => undefined);
  }

  private async run(): Promise<void> {
    const interval = Math.max(50, Math.floor(this.options.ttlMs / 3));
    let lastRenewed = 0;
    while (!this.stopped) {
      try {
        if (!this.leading) {
          if ((await this.redis.set(this.key, this.token, 'PX', this.options.ttlMs, 'NX')) === 'OK') {
            lastRenewed = Date.now();
            this.leading = true;
            this.logger.info('took the chat lease: running bots and notifier here');
            await this.led.start();
          }
        } else if (Number(await this.redis.eval(RENEW_SCRIPT, 1, this.key, this.token, String(this.options.ttlMs))) === 1) {
          lastRenewed = Date.now();
        } else {
          await this.stepDown();
        }
      } catch (error) {
        this.logger.warn({ err: { message: (error as Error).message } }, 'chat lease check failed');
        // Without Redis we cannot prove we still lead; give way before another process may take over.
        if (this.leading && Date.now() - lastRenewed > this.options.ttlMs - interval) await this.stepDown();
      }
      await sleepUnless(interval, this.stopping.signal);
    }
  }

  private async stepDown(): Promise<void> {
    this.leading = false;
    this.logger.warn('lost the chat lease: stopping bots and notifier here');
    await this.led.stop().catch((error: Error) => this.logger.error({ err: { message: error.message } }, 'stopping chat components failed'));
  }
}
