import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { toErrorBody } from '../api/error-response.js';
import { errorBodySchema } from '../api/openapi-registry.js';
import { unauthorized } from '../core/errors.js';
import type { RunwayMetrics } from './runway-metrics.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests in constant time, so the token cannot be guessed byte by byte from timings. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return Boolean(match?.[1]) && timingSafeEqual(digest(match![1]!.trim()), digest(token));
}

/**
 * Answers a scrape on a plain Node request, shared by the API route and the
 * workers' own listener. Without `token` the endpoint is open (keep it on a
 * private network then).
 */
export async function serveMetrics(
  metrics: RunwayMetrics,
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (token && !bearerMatches(req.headers.authorization, token)) {
    const error = unauthorized('A valid metrics token is required', {
      suggestions: ['Send Authorization: Bearer <METRICS_TOKEN>'],
    });
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(toErrorBody(error)));
    return;
  }
  const { contentType, body } = await metrics.render();
  res.statusCode = 200;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/** `GET /metrics` on the API, documented in the OpenAPI document as text. */
export function mountMetricsRoute(router: Router, registry: OpenAPIRegistry, metrics: RunwayMetrics, token: string | undefined): void {
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (Bearer METRICS_TOKEN when one is configured)',
    tags: ['system'],
    security: token ? [{ Bearer: [] }] : [],
    responses: {
      200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
      401: { description: 'Missing or wrong metrics token', content: { 'application/json': { schema: errorBodySchema } } },
    },
  });
  router.get('/metrics', (req, res, next) => {
    serveMetrics(metrics, token, req, res).catch(next);
  });
}
