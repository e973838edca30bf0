import type { Redis } from 'ioredis';
import type { DeliveredEvent, EventPublisher, RunwayEvent } from './runway-event.js';

/**
 * Events live in a Redis Stream rather than pub/sub: a notifier that is down
 * (bot outage, restart) reads what it missed through its consumer group, so
 * no final deployment message is lost (issue 6).
 */
export interface RedisEventStreamOptions {
  /** Key prefix shared by the installation (config REDIS_PREFIX). */
  prefix: string;
  /** Approximate number of events kept. */
  maxLength?: number;
}

export class RedisEventStream implements EventPublisher {
  readonly key: string;
  private readonly maxLength: number;

  constructor(private readonly redis: Redis, options: RedisEventStreamOptions) {
    this.key = `${options.prefix}:events`;
    this.maxLength = options.maxLength ?? 10_000;
  }

  async publish(event: RunwayEvent): Promise<void> {
    await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLength), '*', 'event', JSON.stringify(event));
  }

  /** Creates the consumer group if it does not exist; new groups start at the stream's end. */
  async ensureGroup(group: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, group, '$', 'MKSTREAM');
    } catch (error) {
      if (!(error as Error).message.includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * Reads events for one consumer of a group: first its own unacknowledged
   * ones (after a crash), then new ones, blocking up to `blockMs`.
   * `redis` must be a connection of its own, since XREADGROUP BLOCK holds it.
   */
  async read(redis: Redis, group: string, consumer: string, options: { count?: number; blockMs?: number } = {}): Promise<DeliveredEvent[]> {
    const count = String(options.count ?? 50);
    const pending = await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', this.key, '0');
    const own = parseReply(pending);
    if (own.length > 0) return own;
    const fresh = await redis.xreadgroup(
      'GROUP', group, consumer, 'COUNT', count, 'BLOCK', String(options.blockMs ?? 5_000), 'STREAMS', this.key, '>',
    );
    return parseReply(fresh);
  }

  async ack(group: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.xack(this.key, group, ...ids);
  }
}

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

function parseReply(reply: unknown): DeliveredEvent[] {
  const streams = reply as StreamReply;
  if (!streams) return [];
  return streams.flatMap(([, entries]) =>
    entries.flatMap(([id, fields]) => {
      const index = fields.indexOf('event');
      const raw = index >= 0 ? fields[index + 1] : undefined;
      return raw ? [{ id, event: JSON.parse(raw) as RunwayEvent }] : [];
    }),
  );
}
