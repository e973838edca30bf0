import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { RedisEventStream } from './redis-event-stream.js';
import type { DeliveredEvent } from './runway-event.js';

export interface EventGroupConsumerOptions {
  events: RedisEventStream;
  /** A connection of its own: XREADGROUP BLOCK holds it, and stop() disconnects it. */
  redis: Redis;
  group: string;
  logger: Logger;
  /** What a failed read or handler is logged as, and at which level. */
  what: string;
  level?: 'warn' | 'error';
  consumer?: string;
  blockMs?: number;
}

/**
 * Reads the event stream through one consumer group and hands each batch to
 * `handle`, acknowledging it afterwards. A background loop never throws:
 * errors are logged and the batch is read again after a second.
 */
export class EventGroupConsumer {
  private running = false;
  private loop?: Promise<void>;
  private readonly consumer: string;

  constructor(
    private readonly options: EventGroupConsumerOptions,
    private readonly handle: (batch: DeliveredEvent[]) => Promise<void>,
  ) {
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}`;
  }

  async start(): Promise<void> {
    await this.options.events.ensureGroup(this.options.group);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    // Ends a blocked XREADGROUP at once instead of waiting out its block time.
    this.options.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { events, redis, group, logger } = this.options;
    while (this.running) {
      try {
        const batch = await events.read(redis, group, this.consumer, { blockMs: this.options.blockMs ?? 5_000 });
        await this.handle(batch);
        await events.ack(group, batch.map((delivered) => delivered.id));
      } catch (error) {
        if (!this.running) return;
        logger[this.options.level ?? 'warn']({ err: error }, `${this.options.what} failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}
