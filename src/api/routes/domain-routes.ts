import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/prisma.js';
import { listEnvironmentDomains } from '../../core/domains/domain-views.js';
import type { DomainWork } from '../../core/domains/domain-work.js';
import { findOwnEnvironment, publishDomain } from '../../core/domains/publish-domain.js';
import { removeDomain } from '../../core/domains/remove-domain.js';
import { defineRoute, type RequestAuthenticator } from '../route-builder.js';

const environmentParams = z.object({ id: z.string().min(1).max(64) });
const publishBody = z
  .object({
    domain: z.string().min(1).max(253).describe('Public hostname, e.g. app.example.com (no wildcard, no IP)'),
    service: z.string().min(1).max(63).describe('Service name in the environment'),
    port: z.number().int().min(1).max(65535).describe('Container port the service listens on'),
  })
  .strict()
  .openapi('PublishDomainRequest');

const domainSchema = z
  .object({
    id: z.string(),
    hostname: z.string(),
    service: z.string(),
    port: z.number(),
    status: z.enum(['PENDING', 'ACTIVE', 'FAILED']),
    reason: z.string().nullable().describe('Why the domain FAILED, and what to do about it'),
    certificate: z
      .object({ status: z.string(), expiresAt: z.string().nullable(), nextAttemptAt: z.string().nullable() })
      .nullable(),
    createdAt: z.string(),
  })
  .openapi('Domain');

export interface DomainRouteDeps {
  db: Database;
  work: DomainWork;
  authenticator?: RequestAuthenticator;
}

/** Thin REST adapter over the domain use cases (SPEC section 4). */
export function mountDomainRoutes(router: Router, registry: OpenAPIRegistry, deps: DomainRouteDeps): void {
  defineRoute(router, registry, deps.authenticator, {
    method: 'post',
    path: '/environments/:id/public',
    summary: 'Route a public hostname to a service via Nginx and obtain its certificate',
    tags: ['domains'],
    access: 'ENVIRONMENTS_WRITE',
    params: environmentParams,
    body: publishBody,
    responses: {
      202: { description: 'Accepted; poll the domain state', content: { 'application/json': { schema: domainSchema } } },
      404: { description: 'No such environment (or not yours), or no such service in it' },
      409: { description: 'The hostname is already routed elsewhere' },
    },
    handler: async ({ params, body, principal }) => ({
      status: 202,
      body: await publishDomain(deps, principal!, { environmentId: params.id, ...body }),
    }),
  });

  defineRoute(router, registry, deps.authenticator, {
    method: 'get',
    path: '/environments/:id/public',
    summary: "The environment's public domains with their state and certificate expiry",
    tags: ['domains'],
    access: 'ENVIRONMENTS_READ',
    params: environmentParams,
    responses: {
      200: { description: 'Domains', content: { 'application/json': { schema: z.object({ domains: z.array(domainSchema) }) } } },
      404: { description: 'No such environment (or not yours)' },
    },
    handler: async ({ params, principal }) => {
      const environment = await findOwnEnvironment(deps.db, principal!, params.id);
      return { status: 200, body: { domains: await listEnvironmentDomains(deps.db, environment.id) } };
    },
  });

  defineRoute(router, registry, deps.authenticator, {
    method: 'delete',
    path: '/environments/:id/public/:domain',
    summary: 'Remove a public route (its Nginx site and certificate files)',
    tags: ['domains'],
    access: 'ENVIRONMENTS_WRITE',
    params: environmentParams.extend({ domain: z.string().min(1).max(253) }),
    responses: { 204: { description: 'Removed' }, 404: { description: 'No such environment or domain' } },
    handler: async ({ params, principal, res }) => {
      await removeDomain(deps, principal!, { environmentId: params.id, domain: params.domain });
      res.status(204).end();
    },
  });
}
