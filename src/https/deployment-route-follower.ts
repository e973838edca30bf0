/**
 * Follows deployment events so Nginx upstreams change as soon as a service's
 * tasks do (a new version RUNNING gets new task addresses on
 * docker_gwbridge), instead of waiting for the periodic route sync. Reads
 * the event stream through a consumer group of its own.
 */
import type { Redis } from 'ioredis';
import type { Database } from '../db/prisma.js';
import type { DomainWork } from '../core/domains/domain-work.js';
import { EventGroupConsumer } from '../events/event-group-consumer.js';
import type { RedisEventStream } from '../events/redis-event-stream.js';
import type { DeliveredEvent } from '../events/runway-event.js';
import type { Logger } from '../logging/logger.js';

export const ROUTES_CONSUMER_GROUP = 'https-routes';
const RESYNC_STATES = new Set(['RUNNING', 'SUPERSEDED', 'STOPPED', 'FAILED']);

export class DeploymentRouteFollower {
  private readonly consumer: EventGroupConsumer;

  constructor(
    private readonly deps: { db: Database; events: RedisEventStream; redis: Redis; work: DomainWork; logger: Logger },
    blockMs = 5_000,
  ) {
    const { events, redis, logger } = deps;
    this.consumer = new EventGroupConsumer(
      { events, redis, logger, blockMs, group: ROUTES_CONSUMER_GROUP, what: 'following deployment events', level: 'error' },
      (batch) => this.resyncFor(batch),
    );
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private async resyncFor(batch: DeliveredEvent[]): Promise<void> {
    const environments = new Set<string>();
    for (const { event } of batch) {
      if (event.type === 'deployment.state' && RESYNC_STATES.has(event.state)) environments.add(event.environmentId);
    }
    if (environments.size > 0 && (await this.deps.db.domain.count({ where: { environmentId: { in: [...environments] } } })) > 0) {
      await this.deps.work.sync();
    }
  }
}
