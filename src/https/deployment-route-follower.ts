/**
 * Follows deployment events so Nginx upstreams change as soon as a service's
 * tasks do (a new version RUNNING gets new task addresses on
 * docker_gwbridge), instead of waiting for the periodic route sync. Reads
 * the event stream through a consumer group of its own; errors are logged
 * and the loop goes on (a background loop never throws).
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Database } from '../db/prisma.js';
import type { DomainWork } from '../core/domains/domain-work.js';
import type { RedisEventStream } from '../events/redis-event-stream.js';
import type { Logger } from '../logging/logger.js';

export const ROUTES_CONSUMER_GROUP = 'https-routes';
const RESYNC_STATES = new Set(['RUNNING', 'SUPERSEDED', 'STOPPED', 'FAILED']);

export class DeploymentRouteFollower {
  private running = false;
  private loop?: Promise<void>;
  private readonly consumer = `${hostname()}-${process.pid}`;

  constructor(
    private readonly deps: { db: Database; events: RedisEventStream; redis: Redis; work: DomainWork; logger: Logger },
    private readonly blockMs = 5_000,
  ) {}

  async start(): Promise<void> {
    await this.deps.events.ensureGroup(ROUTES_CONSUMER_GROUP);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.deps.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const batch = await this.deps.events.read(this.deps.redis, ROUTES_CONSUMER_GROUP, this.consumer, { blockMs: this.blockMs });
        const environments = new Set<string>();
        for (const { event } of batch) {
          if (event.type === 'deployment.state' && RESYNC_STATES.has(event.state)) environments.add(event.environmentId);
        }
        if (environments.size > 0 && (await this.deps.db.domain.count({ where: { environmentId: { in: [...environments] } } })) > 0) {
          await this.deps.work.sync();
        }
        await this.deps.events.ack(ROUTES_CONSUMER_GROUP, batch.map((delivered) => delivered.id));
      } catch (error) {
        if (!this.running) return;
        this.deps.logger.error({ err: error }, 'following deployment events failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}
