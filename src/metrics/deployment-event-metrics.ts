import type { Redis } from 'ioredis';
import type { Database } from '../db/prisma.js';
import { EventGroupConsumer } from '../events/event-group-consumer.js';
import type { RedisEventStream } from '../events/redis-event-stream.js';
import type { RunwayEvent } from '../events/runway-event.js';
import type { Logger } from '../logging/logger.js';
import type { RunwayMetrics } from './runway-metrics.js';

/**
 * All metric consumers share one consumer group, so each event is counted by
 * exactly one process and Prometheus' `sum` over instances is the true total.
 */
export const METRICS_CONSUMER_GROUP = 'metrics';

type DeploymentStateEvent = Extract<RunwayEvent, { type: 'deployment.state' }>;

export interface DeploymentEventMetricsOptions {
  metrics: RunwayMetrics;
  events: RedisEventStream;
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  redis: Redis;
  db: Database;
  logger: Logger;
  consumer?: string;
  blockMs?: number;
}

/** Turns deployment events into transition counts, state durations and end-to-end durations. */
export class DeploymentEventMetrics {
  private readonly consumer: EventGroupConsumer;

  constructor(private readonly options: DeploymentEventMetricsOptions) {
    const { events, redis, logger, consumer, blockMs } = options;
    this.consumer = new EventGroupConsumer(
      { events, redis, logger, consumer, blockMs, group: METRICS_CONSUMER_GROUP, what: 'deployment metrics: reading events' },
      async (batch) => {
        for (const { event } of batch) if (event.type === 'deployment.state') await this.observe(event);
      },
    );
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  /** Public for tests: records one event. */
  async observe(event: DeploymentStateEvent): Promise<void> {
    const { metrics, db } = this.options;
    const at = Date.parse(event.at);
    const deployment = await db.deployment.findUnique({
      where: { id: event.deploymentId },
      select: {
        createdAt: true,
        source: true,
        transitions: event.fromState
          ? { where: { toStatus: event.fromState }, orderBy: { at: 'desc' }, take: 1, select: { at: true } }
          : false,
      },
    });
    metrics.deploymentTransitions.inc({ state: event.state });
    if (!deployment || Number.isNaN(at)) return;
    const enteredFrom = deployment.transitions?.[0]?.at;
    if (event.fromState && enteredFrom) {
      metrics.deploymentStateDuration.observe({ state: event.fromState }, Math.max(0, at - enteredFrom.getTime()) / 1000);
    }
    if (event.state === 'RUNNING' || event.state === 'FAILED') {
      metrics.deploymentDuration.observe(
        { outcome: event.state, source: deployment.source },
        Math.max(0, at - deployment.createdAt.getTime()) / 1000,
      );
    }
  }
}
