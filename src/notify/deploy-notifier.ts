import type { Redis } from 'ioredis';
import type { Database } from '../db/prisma.js';
import type { ChatPlatform } from '../generated/prisma/enums.js';
import type { RedisEventStream } from '../events/redis-event-stream.js';
import type { DeliveredEvent, RunwayEvent } from '../events/runway-event.js';
import type { Logger } from '../logging/logger.js';
import type { NotificationRecorder } from '../metrics/runway-metrics.js';
import { sleep } from './chat-sender.js';
import { domainNotice } from './domain-notice.js';
import { loadDeploymentView, type LogTailSource } from './deployment-view.js';
import { NoticeDelivery, type Senders } from './notice-delivery.js';

export interface DeployNotifierOptions {
  /** Consumer group on the event stream; one per installation. */
  group: string;
  consumer: string;
  /** Longest XREADGROUP BLOCK; also bounds how long stop() waits for the reader. */
  blockMs: number;
  /** Retry backoff for a deployment whose delivery failed (outage): first, then doubling up to max. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Key prefix for the "already sent" marks of one-off messages. */
  prefix: string;
}

export const DEFAULT_NOTIFIER_OPTIONS: Omit<DeployNotifierOptions, 'prefix'> = {
  group: 'notifier',
  consumer: 'notifier',
  blockMs: 2_000,
  retryBaseMs: 500,
  retryMaxMs: 15_000,
};

export interface DeployNotifierDeps {
  db: Database;
  stream: RedisEventStream;
  /** Commands and acks; the notifier opens its own duplicate for blocking reads. */
  redis: Redis;
  senders: Senders;
  logger: Logger;
  recorder?: NotificationRecorder;
  logTail?: LogTailSource;
}

/** Events waiting for one deployment (or one one-off event) on one platform; only the latest is rendered. */
interface Lane {
  platform: ChatPlatform;
  ids: string[];
  event: RunwayEvent;
  running: boolean;
  failures: number;
}

/**
 * Turns RunwayEvents from the Redis Stream into chat messages. Events of one
 * deployment go through one lane: while a delivery runs, newer events queue
 * up and are coalesced into one render of the latest state. An event is
 * acknowledged only after its delivery, so a bot outage or a restart loses
 * nothing: failed lanes retry with backoff, and unacknowledged events are
 * read again at start. A delivery failure never touches the deployment.
 */
export class DeployNotifier {
  private readonly options: DeployNotifierOptions;
  private readonly delivery: NoticeDelivery;
  private readonly lanes = new Map<string, Lane>();
  private readonly inFlight = new Set<string>();
  /** Per event id: platform lanes that have not delivered it yet. */
  private readonly remaining = new Map<string, number>();
  private blocking: Redis | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private markReady: () => void = () => undefined;
  /** Resolves once the consumer group exists, i.e. events published from now on will be delivered. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DeployNotifierDeps, options: Partial<DeployNotifierOptions> & { prefix: string }) {
    this.options = { ...DEFAULT_NOTIFIER_OPTIONS, ...options };
    this.delivery = new NoticeDelivery(deps.db, deps.senders, deps.logger, deps.recorder);
  }

  /** Starts reading in the background (again after stop(): unacknowledged events are read first). */
  start(): void {
    this.stopping = false;
    this.lanes.clear();
    this.inFlight.clear();
    this.remaining.clear();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.blocking = this.deps.redis.duplicate();
    this.blocking.on('error', () => undefined);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.blocking?.disconnect();
    await this.loop;
    const deadline = Date.now() + 5_000;
    while ([...this.lanes.values()].some((lane) => lane.running) && Date.now() < deadline) await sleep(50);
  }

  private async run(): Promise<void> {
    // First our own unacknowledged events (a crash or restart mid-delivery), paged by id; then new ones.
    let cursor: string | undefined = '0';
    let grouped = false;
    while (!this.stopping) {
      try {
        if (!grouped) {
          await this.deps.stream.ensureGroup(this.options.group);
          grouped = true;
          this.markReady();
        }
        const { events, lastId } = await this.read(cursor ?? '>');
        if (cursor !== undefined) cursor = lastId;
        for (const delivered of events) this.enqueue(delivered);
      } catch (error) {
        if (this.stopping) break;
        this.deps.logger.warn({ err: { message: (error as Error).message } }, 'notifier read failed; retrying');
        await sleep(1_000);
      }
    }
  }

  private async read(from: string): Promise<{ events: DeliveredEvent[]; lastId?: string }> {
    const redis = this.blocking as Redis;
    const { group, consumer, blockMs } = this.options;
    const args = from === '>' ? ['BLOCK', String(blockMs)] : [];
    const reply = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', '200', ...(args as []), 'STREAMS', this.deps.stream.key, from)) as
      | [string, [string, string[]][]][]
      | null;
    const entries = reply?.[0]?.[1] ?? [];
    // An id already in a lane (read again while recovering) is not queued twice.
    const events: DeliveredEvent[] = [];
    for (const [id, fields] of entries.filter(([entryId]) => !this.inFlight.has(entryId))) {
      const raw = fields?.[fields.indexOf('event') + 1];
      // A pending entry trimmed from the stream comes back without fields: nothing left to deliver.
      if (raw) events.push({ id, event: JSON.parse(raw) as RunwayEvent });
      else await this.deps.stream.ack(group, [id]);
    }
    return { events, lastId: entries.at(-1)?.[0] };
  }

  /**
   * One lane per deployment and platform, so a slow or unreachable Discord
   * never holds back Telegram messages (or the reverse); an event is
   * acknowledged once every platform's lane delivered it.
   */
  private enqueue({ id, event }: DeliveredEvent): void {
    const platforms = Object.keys(this.deps.senders) as ChatPlatform[];
    this.inFlight.add(id);
    this.remaining.set(id, platforms.length);
    if (platforms.length === 0) void this.settle([id]);
    for (const platform of platforms) {
      const key = `${event.type === 'deployment.state' ? `deployment:${event.deploymentId}` : `event:${id}`}:${platform}`;
      const lane = this.lanes.get(key) ?? { ids: [], event, running: false, failures: 0, platform };
      lane.ids.push(id);
      lane.event = event;
      this.lanes.set(key, lane);
      if (!lane.running) void this.drain(key, lane);
    }
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    while (lane.ids.length > 0 && !this.stopping) {
      const ids = lane.ids.splice(0);
      const event = lane.event;
      try {
        await this.handle(event, ids[0] as string, lane.platform);
        await this.settle(ids);
        lane.failures = 0;
      } catch (error) {
        lane.ids.unshift(...ids);
        lane.failures += 1;
        const waitMs = Math.min(this.options.retryBaseMs * 2 ** (lane.failures - 1), this.options.retryMaxMs);
        this.deps.logger.warn({ lane: key, attempt: lane.failures, waitMs, err: { message: (error as Error).message } }, 'notification delivery failed; will retry');
        await sleep(waitMs);
      }
    }
    lane.running = false;
    if (lane.ids.length === 0) this.lanes.delete(key);
  }

  /** Counts a lane's delivery of these events; acknowledges those every platform has delivered. */
  private async settle(ids: string[]): Promise<void> {
    const done = ids.filter((id) => {
      const left = (this.remaining.get(id) ?? 1) - 1;
      this.remaining.set(id, left);
      return left <= 0;
    });
    if (done.length === 0) return;
    await this.deps.stream.ack(this.options.group, done);
    for (const id of done) {
      this.remaining.delete(id);
      this.inFlight.delete(id);
    }
  }

  private async handle(event: RunwayEvent, id: string, platform: ChatPlatform): Promise<void> {
    if (event.type === 'deployment.state') {
      const loaded = await loadDeploymentView(this.deps.db, event.deploymentId, this.deps.logTail);
      if (!loaded) return;
      const targets = loaded.targets.filter((target) => target.platform === platform);
      await this.delivery.deliverDeployment(loaded.view, targets, new Date(event.at));
      return;
    }
    const mark = (targetId: string) => `${this.options.prefix}:notified:${id}:${targetId}`;
    await this.delivery.deliverOnce(
      { userId: event.ownerId, platform },
      domainNotice(event),
      async (targetId) => (await this.deps.redis.exists(mark(targetId))) === 1,
      async (targetId) => {
        await this.deps.redis.set(mark(targetId), '1', 'EX', 86_400);
      },
    );
  }
}
