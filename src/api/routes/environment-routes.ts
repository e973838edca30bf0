import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { z } from 'zod';
import type { EnvironmentUseCases } from '../../core/environments/environment-use-cases.js';
import type { Principal } from '../../core/principal.js';
import { environmentNameSchema } from '../../core/service-options-schema.js';
import { defineRoute, jsonResponse as json, type RequestAuthenticator } from '../route-builder.js';

const environmentSchema = z
  .object({ id: z.string(), name: z.string(), networkName: z.string(), networkId: z.string().nullable(), createdAt: z.iso.datetime() })
  .openapi('Environment');
const environmentDetailSchema = environmentSchema
  .extend({
    services: z.array(z.object({ id: z.string(), name: z.string(), status: z.string().nullable(), jobId: z.string().nullable(), image: z.string().nullable() })),
    domains: z.array(z.object({ id: z.string(), hostname: z.string(), serviceId: z.string(), port: z.number(), status: z.string(), reason: z.string().nullable() })),
  })
  .openapi('EnvironmentDetail');
const idParams = z.object({ id: z.string().min(1).max(64) });
const me = (principal: Principal | undefined) => principal as Principal;

function presentEnvironment(env: { id: string; name: string; networkName: string; networkId: string | null; createdAt: Date }) {
  return { id: env.id, name: env.name, networkName: env.networkName, networkId: env.networkId, createdAt: env.createdAt.toISOString() };
}

/** SPEC section 4 environment routes; thin: parse, authorize, call the use case, format. */
export function mountEnvironmentRoutes(router: Router, registry: OpenAPIRegistry, options: { environments: EnvironmentUseCases; authenticator: RequestAuthenticator }): void {
  const { environments, authenticator } = options;
  const tags = ['environments'];

  defineRoute(router, registry, authenticator, {
    method: 'post', path: '/environments', summary: 'Create an environment with its own overlay network', tags,
    access: 'ENVIRONMENTS_WRITE',
    body: z.strictObject({ name: environmentNameSchema }),
    responses: { 201: json('Created', environmentSchema), 409: json('You already have an environment of that name', z.object({})) },
    handler: async ({ principal, body }) => ({ status: 201, body: presentEnvironment(await environments.create(me(principal), body)) }),
  });

  defineRoute(router, registry, authenticator, {
    method: 'get', path: '/environments', summary: "The caller's environments", tags,
    access: 'ENVIRONMENTS_READ',
    responses: { 200: json('Environments', z.array(environmentSchema)) },
    handler: async ({ principal }) => ({ status: 200, body: (await environments.list(me(principal))).map(presentEnvironment) }),
  });

  defineRoute(router, registry, authenticator, {
    method: 'get', path: '/environments/:id', summary: 'One environment with its services and domains', tags,
    access: 'ENVIRONMENTS_READ', params: idParams,
    responses: { 200: json('The environment', environmentDetailSchema) },
    handler: async ({ principal, params }) => {
      const env = await environments.get(me(principal), params.id);
      const services = env.services.map((s) => ({
        id: s.id,
        name: s.name,
        status: s.currentDeployment?.status ?? null,
        jobId: s.currentDeployment?.jobId ?? null,
        image: s.currentDeployment ? (s.currentDeployment.builtImage ?? [s.currentDeployment.image, s.currentDeployment.tag].filter(Boolean).join(':')) : null,
      }));
      return { status: 200, body: { ...presentEnvironment(env), services, domains: env.domains } };
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'delete', path: '/environments/:id', summary: 'Remove its services, network, domains and (with volumes=true) volumes', tags,
    access: 'ENVIRONMENTS_WRITE', params: idParams,
    query: z.object({ volumes: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') }),
    responses: { 204: { description: 'Deleted' } },
    handler: async ({ principal, params, query, res }) => {
      await environments.delete(me(principal), params.id, { volumes: query.volumes });
      res.status(204).end();
    },
  });
}
