import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RunwayMetrics } from './runway-metrics.js';

/**
 * The route label: Express's matched pattern (`/environments/:id`), never the
 * raw URL, so ids and tokens neither blow up label cardinality nor leak into
 * metrics. Requests that matched no route share one label.
 */
export function routeLabel(req: Request, status: number): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === 'string') return `${req.baseUrl ?? ''}${route.path}`;
  return status === 404 ? 'unmatched' : 'other';
}

/** Counts and times every request when its response has been sent (or the client left). */
export function httpMetricsMiddleware(metrics: RunwayMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      metrics.recordHttpRequest({
        method: req.method,
        route: routeLabel(req, res.statusCode),
        status: res.statusCode,
        durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    };
    res.once('finish', record);
    // A client that leaves mid-stream (log follow) ends with 'close' and no 'finish'.
    res.once('close', record);
    next();
  };
}
