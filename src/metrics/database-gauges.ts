import type { Database } from '../db/prisma.js';
import type { RunwayMetrics } from './runway-metrics.js';

/**
 * Gauges read from PostgreSQL at scrape time. Every instance reports the same
 * installation-wide numbers, so aggregate them with `max` (not `sum`) across
 * instances in Prometheus queries.
 */
export function registerDatabaseGauges(metrics: RunwayMetrics, db: Database): void {
  metrics.addScrapeGauge({
    name: 'runway_deployments',
    help: 'Deployments by current state (installation-wide; aggregate with max across instances)',
    labelNames: ['state'] as const,
    read: async () => {
      const groups = await db.deployment.groupBy({ by: ['status'], _count: { _all: true } });
      return groups.map((group) => ({ labels: { state: group.status }, value: group._count._all }));
    },
  });

  metrics.addScrapeGauge({
    name: 'runway_certificate_expiry_timestamp_seconds',
    help: 'When each issued certificate expires (Unix seconds), by hostname',
    labelNames: ['hostname', 'status'] as const,
    read: async () => {
      const certificates = await db.certificate.findMany({
        where: { expiresAt: { not: null } },
        select: { expiresAt: true, status: true, domain: { select: { hostname: true } } },
      });
      return certificates.map((certificate) => ({
        labels: { hostname: certificate.domain.hostname, status: certificate.status },
        value: Math.floor(certificate.expiresAt!.getTime() / 1000),
      }));
    },
  });
}
