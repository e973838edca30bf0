import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { DeploymentLogs } from '../../core/deployments/deployment-logs.js';
import type { DeploymentManagement } from '../../core/deployments/deployment-management.js';
import type { StartDeployment } from '../../core/deployments/deployment-use-cases.js';
import type { Principal } from '../../core/principal.js';
import { imageDeploymentSchema, type ServiceLimits } from '../../core/service-options-schema.js';
import type { LogLine } from '../../docker/swarm-gateway.js';
import { gitDeploymentSchema } from '../../git/git-source-schema.js';
import { defineRoute, jsonResponse as json, type RequestAuthenticator } from '../route-builder.js';
import { deploymentSchema, presentDeployment, startedSchema } from './deployment-presenter.js';

export interface DeploymentRouteOptions {
  starter: StartDeployment;
  deployments: DeploymentManagement;
  logs: DeploymentLogs;
  authenticator: RequestAuthenticator;
  limits: ServiceLimits;
  allowFileGitUrls: boolean;
  /** Per-key deployment rate limit (access module); throws a 429 AppError when exceeded. */
  limitDeployments?: (principal: Principal, kind: 'image' | 'git') => Promise<void>;
}

const me = (principal: Principal | undefined) => principal as Principal;
const idParams = z.object({ id: z.string().min(1).max(64) });
const logQuery = z.object({
  tail: z.coerce.number().int().min(0).max(10_000).default(100),
  follow: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

/** SPEC section 4 deployment routes; thin: parse, authorize, call the use case, format. */
export function mountDeploymentRoutes(router: Router, registry: OpenAPIRegistry, options: DeploymentRouteOptions): void {
  const { starter, deployments, authenticator } = options;
  const tags = ['deployments'];
  const limit = options.limitDeployments ?? (async () => undefined);

  defineRoute(router, registry, authenticator, {
    method: 'post', path: '/deployments', summary: 'Deploy an image to an environment (processed by a worker)', tags,
    access: 'DEPLOYMENTS_WRITE', body: imageDeploymentSchema(options.limits),
    responses: { 202: json('Accepted; poll GET /deployments/job/{jobId}', startedSchema), 404: json('No such environment', z.object({})), 409: json('Host port held, or a deployment of the service in progress', z.object({})) },
    handler: async ({ principal, body }) => {
      await limit(me(principal), 'image');
      return { status: 202, body: await starter.start(me(principal), { ...body, source: 'IMAGE' }) };
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'post', path: '/deployments/from-git', summary: 'Build a Git repository and deploy it', tags,
    access: 'DEPLOYMENTS_WRITE', body: gitDeploymentSchema(options.limits, { allowFileUrls: options.allowFileGitUrls }),
    responses: { 202: json('Accepted; poll GET /deployments/job/{jobId}', startedSchema) },
    handler: async ({ principal, body }) => {
      await limit(me(principal), 'git');
      return { status: 202, body: await starter.start(me(principal), { ...body, source: 'GIT' }) };
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'get', path: '/deployments/job/:jobId', summary: 'A deployment by jobId: status, transitions with times, errorMessage, build log and (FAILED) last log lines', tags,
    access: 'DEPLOYMENTS_READ', params: z.object({ jobId: z.string().min(1).max(64) }),
    responses: { 200: json('The deployment', deploymentSchema) },
    handler: async ({ principal, params }) => ({ status: 200, body: presentDeployment(await deployments.getByJobId(me(principal), params.jobId), { withBuildLog: true }) }),
  });

  defineRoute(router, registry, authenticator, {
    method: 'get', path: '/deployments/environment/:envId', summary: "The environment's deployment history, newest first", tags,
    access: 'DEPLOYMENTS_READ', params: z.object({ envId: z.string().min(1).max(64) }),
    responses: { 200: json('Deployments', z.array(deploymentSchema)) },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: (await deployments.listForEnvironment(me(principal), params.envId)).map((row) => presentDeployment(row)),
    }),
  });

  defineRoute(router, registry, authenticator, {
    method: 'get', path: '/deployments/:id/logs', summary: 'Service logs as JSON lines; follow=true streams Server-Sent Events', tags,
    access: 'LOGS_READ', params: idParams, query: logQuery,
    responses: {
      200: {
        description: 'application/x-ndjson lines {stream, line, timestamp}, or text/event-stream with follow=true',
        content: { 'application/x-ndjson': { schema: z.string() }, 'text/event-stream': { schema: z.string() } },
      },
    },
    handler: async ({ principal, params, query, req, res }) => {
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const lines = await options.logs.open(me(principal), params.id, query, abort.signal);
      await (query.follow ? streamEvents(lines, req, res, abort) : writeJsonLines(lines, res));
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'post', path: '/deployments/:id/rollback', summary: 'Redeploy the previous version of the service that ran', tags,
    access: 'DEPLOYMENTS_WRITE', params: idParams,
    responses: { 202: json('Accepted with a new jobId', startedSchema), 409: json('No earlier version ran', z.object({})) },
    handler: async ({ principal, params }) => {
      await limit(me(principal), 'image');
      return { status: 202, body: await deployments.rollback(me(principal), params.id) };
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'delete', path: '/deployments/:id', summary: 'Stop and remove the service; the deployment becomes STOPPED', tags,
    access: 'DEPLOYMENTS_WRITE', params: idParams,
    responses: { 200: json('The stopped deployment', deploymentSchema) },
    handler: async ({ principal, params }) => ({ status: 200, body: presentDeployment(await deployments.delete(me(principal), params.id)) }),
  });
}

async function writeJsonLines(lines: AsyncIterable<LogLine>, res: Response): Promise<void> {
  res.status(200).type('application/x-ndjson');
  for await (const line of lines) res.write(`${JSON.stringify(line)}\n`);
  res.end();
}

/** SSE until the client leaves (req close aborts the Docker stream) or the service's log stream ends. */
async function streamEvents(lines: AsyncIterable<LogLine>, _req: Request, res: Response, abort: AbortController): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  // Proxies drop idle connections; a comment line every 15 s keeps it open.
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  try {
    for await (const line of lines) {
      if (abort.signal.aborted) break;
      res.write(`event: log\ndata: ${JSON.stringify(line)}\n\n`);
    }
    if (!abort.signal.aborted) res.write('event: end\ndata: {}\n\n');
  } catch (error) {
    if (!abort.signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}
