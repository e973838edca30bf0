import type { Redis } from 'ioredis';
import type { KeyRevocationPublisher } from '../../core/access/access-dependencies.js';
import type { Logger } from '../../logging/logger.js';

/**
 * Redis pub/sub for key revocations: whoever revokes (an API instance, a bot
 * in a worker, the CLI) publishes the keyId; every API instance drops it from
 * its cache at once. A subscriber that lost its connection may have missed
 * messages, so on every (re)subscribe it clears its whole cache.
 */
export class RedisRevocationChannel implements KeyRevocationPublisher {
  private subscriber: Redis | undefined;

  constructor(private readonly redis: Redis, prefix: string, private readonly logger: Logger) {
    this.channel = `${prefix}:access:key-revoked`;
  }

  private readonly channel: string;

  /**
   * The revocation is already in the database; if Redis cannot carry it now,
   * instances that lost Redis have suspended their caches (see subscribe), so
   * the key still fails everywhere. Not worth failing the caller for.
   */
  async publishRevoked(keyId: string): Promise<void> {
    await this.redis.publish(this.channel, keyId).catch((error: Error) =>
      this.logger.warn({ err: { message: error.message }, keyId }, 'revocation broadcast failed'),
    );
  }

  /**
   * `onSuspend` runs when the subscription drops (messages may be missed from
   * then on), `onResync` when it is back (ioredis re-subscribes by itself).
   */
  async subscribe(handlers: { onRevoked(keyId: string): void; onSuspend(): void; onResync(): void }): Promise<void> {
    const subscriber = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName: `${this.channel}:subscriber` });
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.logger.warn({ err: { message: error.message } }, 'revocation subscriber error'));
    subscriber.on('message', (channel: string, keyId: string) => {
      if (channel === this.channel) handlers.onRevoked(keyId);
    });
    subscriber.on('close', () => handlers.onSuspend());
    subscriber.on('ready', () => handlers.onResync());
    await subscriber.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    if (!this.subscriber) return;
    await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
    this.subscriber = undefined;
  }
}
