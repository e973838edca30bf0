import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { NextFunction, Request, Response, Router } from 'express';
import { z, type ZodType } from 'zod';
import { badRequest } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { Scope } from '../generated/prisma/enums.js';
import { errorBodySchema } from './openapi-registry.js';

/**
 * `public`: no key needed. `any`: any valid key. A Scope: a key holding it.
 */
export type RouteAccess = 'public' | 'any' | Scope;

/** Resolves the caller of a request and enforces a scope; supplied by the access layer. */
export interface RequestAuthenticator {
  authenticate(req: Request, access: Exclude<RouteAccess, 'public'>): Promise<Principal>;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | undefined;
  req: Request;
  res: Response;
}

export interface RouteDefinition<P extends ZodType, Q extends ZodType, B extends ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax (`/environments/:id`); converted for OpenAPI. */
  path: string;
  summary: string;
  tags?: string[];
  access: RouteAccess;
  params?: P;
  query?: Q;
  body?: B;
  /** OpenAPI responses; the error responses are added for you. */
  responses: RouteConfig['responses'];
  /** Returns `{status, body}` to send JSON, or undefined when it wrote the response itself. */
  handler: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<{ status: number; body: unknown } | void>;
}

/** An OpenAPI response whose body is JSON of `schema`. */
export const jsonResponse = (description: string, schema: ZodType) => ({
  description,
  content: { 'application/json': { schema } },
});

const errorResponse = (description: string) => jsonResponse(description, errorBodySchema);

function parseOrThrow<S extends ZodType>(schema: S | undefined, value: unknown, where: string): z.output<S> {
  if (!schema) return value as z.output<S>;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(`Invalid ${where}`, {
    details: {
      issues: result.error.issues.map((issue) => ({
        path: [where, ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    },
    suggestions: ['See /openapi.json for the expected shape'],
  });
}

/**
 * Mounts one route and registers the same zod schemas in the OpenAPI
 * document, so what is documented is exactly what is validated.
 */
export function defineRoute<P extends ZodType, Q extends ZodType, B extends ZodType>(
  router: Router,
  registry: OpenAPIRegistry,
  authenticator: RequestAuthenticator | undefined,
  route: RouteDefinition<P, Q, B>,
): void {
  const responses: RouteConfig['responses'] = { ...route.responses };
  if (route.params || route.query || route.body) responses[400] ??= errorResponse('Invalid input');
  if (route.access !== 'public') {
    responses[401] ??= errorResponse('Missing or invalid API key');
    if (route.access !== 'any') responses[403] ??= errorResponse(`The key lacks the ${route.access} scope`);
    responses[429] ??= errorResponse('Rate limited; see Retry-After');
  }
  registry.registerPath({
    method: route.method,
    path: route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
    summary: route.summary,
    tags: route.tags,
    security: route.access === 'public' ? [] : [{ ApiKey: [] }, { Bearer: [] }],
    /** Machine-readable access rule: the scope matrix test (test/access) walks every route by it. */
    'x-runway-access': route.access,
    request: {
      params: route.params as never,
      query: route.query as never,
      body: route.body ? { content: { 'application/json': { schema: route.body } } } : undefined,
    },
    responses,
  });

  router[route.method](route.path, async (req: Request, res: Response, next: NextFunction) => {
    try {
      let principal: Principal | undefined;
      if (route.access !== 'public') {
        if (!authenticator) throw new Error(`route ${route.path} needs an authenticator`);
        principal = await authenticator.authenticate(req, route.access);
      }
      const result = await route.handler({
        params: parseOrThrow(route.params, req.params, 'params'),
        query: parseOrThrow(route.query, req.query, 'query'),
        body: parseOrThrow(route.body, req.body ?? {}, 'body'),
        principal,
        req,
        res,
      });
      if (result) res.status(result.status).json(result.body);
    } catch (error) {
      next(error);
    }
  });
}
