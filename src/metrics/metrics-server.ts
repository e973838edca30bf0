import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHealthChecks, type HealthCheck } from '../health/health-checks.js';
import type { Logger } from '../logging/logger.js';
import { serveMetrics } from './metrics-endpoint.js';
import type { RunwayMetrics } from './runway-metrics.js';

export interface MetricsServerOptions {
  metrics: RunwayMetrics;
  token?: string;
  /** Checks behind `/health`, so a worker container has a health check too. */
  checks: Record<string, HealthCheck>;
  port: number;
  host: string;
  logger: Logger;
}

/**
 * A worker-only process serves no API, yet Prometheus must scrape it and the
 * container runtime must probe it: a tiny listener with `/metrics` and
 * `/health` and nothing else.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async () => {
      if (req.method === 'GET' && path === '/metrics') return serveMetrics(options.metrics, options.token, req, res);
      if (req.method === 'GET' && path === '/health') {
        const report = await runHealthChecks(options.checks);
        res.writeHead(report.status === 'ok' ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify(report));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ROUTE_NOT_FOUND', message: 'Only /metrics and /health live here', details: {}, suggestions: [], retryable: false } }));
    };
    answer().catch((error: Error) => {
      options.logger.error({ err: error }, 'metrics listener failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address === '0.0.0.0' ? '127.0.0.1' : address.address}:${address.port}`;
  options.logger.info({ url }, 'metrics and health listener started');
  return {
    server,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
