import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { z } from 'zod';
import { runHealthChecks, type HealthCheck } from '../../health/health-checks.js';
import { defineRoute } from '../route-builder.js';

const rootSchema = z.object({ name: z.string(), version: z.string(), docs: z.string(), openapi: z.string() });
const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    failing: z.array(z.string()),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), latencyMs: z.number(), detail: z.string().optional() }).loose()),
  })
  .openapi('Health');

export function mountSystemRoutes(
  router: Router,
  registry: OpenAPIRegistry,
  options: { version: string; checks: Record<string, HealthCheck> },
): void {
  defineRoute(router, registry, undefined, {
    method: 'get',
    path: '/',
    summary: 'Name, version and where the docs are',
    tags: ['system'],
    access: 'public',
    responses: { 200: { description: 'About this API', content: { 'application/json': { schema: rootSchema } } } },
    handler: async () => ({
      status: 200,
      body: { name: 'runway', version: options.version, docs: '/api/docs', openapi: '/openapi.json' },
    }),
  });

  defineRoute(router, registry, undefined, {
    method: 'get',
    path: '/health',
    summary: 'Checks of the database, Redis, the Docker engine and swarm, disk and memory',
    tags: ['system'],
    access: 'public',
    responses: {
      200: { description: 'Everything works', content: { 'application/json': { schema: healthSchema } } },
      503: { description: 'Something failed; `failing` names it', content: { 'application/json': { schema: healthSchema } } },
    },
    handler: async ({ res }) => {
      const report = await runHealthChecks(options.checks);
      res.setHeader('Cache-Control', 'no-store');
      return { status: report.status === 'ok' ? 200 : 503, body: report };
    },
  });
}
