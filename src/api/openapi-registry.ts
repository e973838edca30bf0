import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
      suggestions: z.array(z.string()),
      retryable: z.boolean(),
    }),
  })
  .openapi('Error');

export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'ApiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  registry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer' });
  registry.register('Error', errorBodySchema);
  return registry;
}

export function generateOpenApiDocument(registry: OpenAPIRegistry, info: { version: string; serverUrl: string }) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Runway API',
      version: info.version,
      description: 'Chat-driven deployments to Docker Swarm. Errors always use the Error schema.',
    },
    servers: [{ url: info.serverUrl }],
  });
}
