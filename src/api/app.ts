import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../logging/logger.js';
import { errorHandler, notFoundHandler } from './error-response.js';
import { generateOpenApiDocument } from './openapi-registry.js';

/** A feature's routes: mounted on the router and registered in the OpenAPI document. */
export type RouteMount = (router: Router, registry: OpenAPIRegistry) => void;

export interface AppOptions {
  logger: Logger;
  registry: OpenAPIRegistry;
  mounts: RouteMount[];
  version: string;
  publicUrl: string;
  bodyLimit: string;
  /** Express `trust proxy`, so rate limits see the client behind Nginx. */
  trustProxy?: boolean | string | number;
  /** Run first for every request, before body parsing (metrics see 400/413 from the parsers too). */
  observers?: RequestHandler[];
}

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? 'loopback');
  for (const observer of options.observers ?? []) app.use(observer);
  app.use(
    pinoHttp({
      logger: options.logger,
      // Query strings carry magic-link tokens: log the path only.
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      },
      autoLogging: { ignore: (req) => req.url === '/health' },
    }),
  );
  app.use(express.json({ limit: options.bodyLimit }));
  app.use(express.urlencoded({ extended: false, limit: options.bodyLimit }));

  const router = express.Router();
  for (const mount of options.mounts) mount(router, options.registry);
  app.use(router);

  const document = generateOpenApiDocument(options.registry, { version: options.version, serverUrl: options.publicUrl });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'Runway API' }));

  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}
