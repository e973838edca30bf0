import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; deployments take from under a second (local image) to minutes (Git build). */
const DEPLOYMENT_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const NOTIFICATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type NotificationChannel = 'telegram' | 'discord' | (string & {});

/**
 * What the chat notifier reports per delivery attempt. Kept as a narrow
 * interface so the notifier depends on this, not on prom-client.
 */
export interface NotificationRecorder {
  /**
   * One delivered (or finally failed) message. `latencySeconds`: from the
   * event's time to the platform's answer.
   */
  recordNotification(sample: { channel: NotificationChannel; ok: boolean; latencySeconds?: number; kind?: string }): void;
}

/** One finished queue job, as a BullMQ worker reports it. */
export interface JobSample {
  queue: string;
  name: string;
  outcome: 'completed' | 'failed';
  /** Processing time (finishedOn - processedOn). */
  durationSeconds?: number;
  /** Time spent waiting in the queue (processedOn - timestamp). */
  waitSeconds?: number;
}

/**
 * Every metric one Runway process exports, on a registry of its own: two
 * instances in one test process never share a metric (prom-client's global
 * registry would).
 */
export class RunwayMetrics implements NotificationRecorder {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'runway_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'runway_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'runway_queue_job_duration_seconds',
    help: 'Processing time of queue jobs by queue, job name and outcome',
    labelNames: ['queue', 'name', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly jobWait = new Histogram({
    name: 'runway_queue_job_wait_seconds',
    help: 'Time queue jobs waited before a worker took them',
    labelNames: ['queue'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly deploymentTransitions = new Counter({
    name: 'runway_deployment_transitions_total',
    help: 'Deployment state transitions seen on the event stream, by new state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly deploymentDuration = new Histogram({
    name: 'runway_deployment_duration_seconds',
    help: 'From a deployment being requested to RUNNING or FAILED, by outcome and source',
    labelNames: ['outcome', 'source'] as const,
    buckets: DEPLOYMENT_BUCKETS,
    registers: [this.registry],
  });

  readonly deploymentStateDuration = new Histogram({
    name: 'runway_deployment_state_duration_seconds',
    help: 'Time deployments spent in each state before leaving it',
    labelNames: ['state'] as const,
    buckets: DEPLOYMENT_BUCKETS,
    registers: [this.registry],
  });

  readonly notifications = new Counter({
    name: 'runway_notifications_total',
    help: 'Chat notifications by channel and outcome (sent, failed)',
    labelNames: ['channel', 'outcome', 'kind'] as const,
    registers: [this.registry],
  });

  readonly notificationLatency = new Histogram({
    name: 'runway_notification_latency_seconds',
    help: 'From the event to the chat platform accepting the message',
    labelNames: ['channel'] as const,
    buckets: NOTIFICATION_BUCKETS,
    registers: [this.registry],
  });

  readonly collectErrors = new Counter({
    name: 'runway_metrics_collect_errors_total',
    help: 'Scrape-time collectors (database, queues) that failed; their gauges are left empty',
    labelNames: ['collector'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultLabels?: Record<string, string>; processMetrics?: boolean } = {}) {
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'runway_' });
  }

  recordHttpRequest(sample: { method: string; route: string; status: number; durationSeconds: number }): void {
    const labels = { method: sample.method, route: sample.route, status: String(sample.status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, sample.durationSeconds);
  }

  recordJob(sample: JobSample): void {
    if (sample.durationSeconds !== undefined && sample.durationSeconds >= 0) {
      this.jobDuration.observe({ queue: sample.queue, name: sample.name, outcome: sample.outcome }, sample.durationSeconds);
    }
    if (sample.waitSeconds !== undefined && sample.waitSeconds >= 0) this.jobWait.observe({ queue: sample.queue }, sample.waitSeconds);
  }

  recordNotification(sample: { channel: NotificationChannel; ok: boolean; latencySeconds?: number; kind?: string }): void {
    this.notifications.inc({ channel: sample.channel, outcome: sample.ok ? 'sent' : 'failed', kind: sample.kind ?? 'deployment' });
    if (sample.ok && sample.latencySeconds !== undefined && sample.latencySeconds >= 0) {
      this.notificationLatency.observe({ channel: sample.channel }, sample.latencySeconds);
    }
  }

  /**
   * A gauge whose values are read when Prometheus scrapes (database counts,
   * queue depths). A failing reader leaves the gauge empty and counts the
   * failure instead of failing the whole scrape.
   */
  addScrapeGauge<L extends string>(options: {
    name: string;
    help: string;
    labelNames: readonly L[];
    read: () => Promise<{ labels: Record<L, string>; value: number }[]>;
  }): Gauge<L> {
    const collectErrors = this.collectErrors;
    return new Gauge<L>({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const sample of await options.read()) this.set(sample.labels, sample.value);
        } catch {
          collectErrors.inc({ collector: options.name });
        }
      },
    });
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
