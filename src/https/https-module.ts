/**
 * Public HTTPS feature wiring (issue 5): domain routes on API processes;
 * on worker processes the domain worker, the renewal job and the route sync
 * that follows task address changes.
 *
 * Topology: the host's Nginx (NGINX_BIN, NGINX_ARGS) proxies to the tasks'
 * docker_gwbridge addresses, so services publish no host port. This worker
 * must run on the node that runs Nginx (see src/nginx/task-upstreams.ts).
 */
import { readFileSync } from 'node:fs';
import { AcmeAccountStore } from '../acme/acme-account-store.js';
import { AcmeIssuer } from '../acme/acme-issuer.js';
import { CertificateFiles } from '../acme/certificate-files.js';
import { Http01Webroot } from '../acme/http01-webroot.js';
import { OrderBudget } from '../acme/order-budget.js';
import { mountDomainRoutes } from '../api/routes/domain-routes.js';
import type { Config } from '../config/config.js';
import { DomainActivator } from '../core/domains/activate-domain.js';
import { CertificateManager } from '../core/domains/certificate-manager.js';
import { removeEnvironmentRoutes } from '../core/domains/remove-domain.js';
import { CertificateRenewal } from '../core/domains/renew-certificates.js';
import { RouteSync } from '../core/domains/route-sync.js';
import type { Database } from '../db/prisma.js';
import type { EventPublisher } from '../events/runway-event.js';
import type Docker from 'dockerode';
import type { Logger } from '../logging/logger.js';
import { createNginxRenderer } from '../nginx/nginx-renderer.js';
import { NginxProcess, parseNginxArgs } from '../nginx/nginx-process.js';
import { SiteApplier } from '../nginx/site-applier.js';
import { GwbridgeUpstreamResolver, type UpstreamResolver } from '../nginx/task-upstreams.js';
import type { ProcessContext } from '../runtime.js';
import { DeploymentRouteFollower } from './deployment-route-follower.js';
import { BullDomainWork, startDomainWorker } from './domain-jobs.js';
import { watchWorker } from '../metrics/queue-metrics.js';

/** ACME_CA_CERT may be the PEM itself or a path to it. */
export function readCaCert(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

export interface EdgeParts {
  routes: RouteSync;
  certificates: CertificateManager;
  activator: DomainActivator;
  renewal: CertificateRenewal;
  applier: SiteApplier;
}

/** Everything that runs next to Nginx; built from config so tests and benches build the same thing. */
export function createEdge(deps: {
  config: Config;
  db: Database;
  docker: Docker;
  events: EventPublisher;
  logger: Logger;
  resolver?: UpstreamResolver;
}): EdgeParts {
  const { config, db, events } = deps;
  const logger = deps.logger.child({ module: 'https' });
  const applier = new SiteApplier(
    config.NGINX_SITES_DIR,
    new NginxProcess({ bin: config.NGINX_BIN, args: parseNginxArgs(config.NGINX_ARGS), pidFile: config.NGINX_PID_FILE }),
    logger,
  );
  const certFiles = new CertificateFiles(config.NGINX_CERTS_DIR);
  const routes = new RouteSync({
    db,
    renderer: createNginxRenderer(),
    applier,
    resolver: deps.resolver ?? new GwbridgeUpstreamResolver(deps.docker, config.NGINX_UPSTREAM_NETWORK),
    certFiles,
    certsDir: config.NGINX_CERTS_DIR,
    settings: { httpListen: config.NGINX_HTTP_LISTEN, httpsListen: config.NGINX_HTTPS_LISTEN, acmeWebroot: config.NGINX_ACME_WEBROOT },
    logger,
  });
  const issuer = new AcmeIssuer(
    { directoryUrl: config.ACME_DIRECTORY_URL, email: config.ACME_EMAIL, caCertPem: readCaCert(config.ACME_CA_CERT) },
    new AcmeAccountStore(db),
    new Http01Webroot(config.NGINX_ACME_WEBROOT),
    logger,
  );
  const certificates = new CertificateManager({
    db,
    issuer,
    budget: new OrderBudget(db, config.ACME_ORDERS_PER_DOMAIN_PER_WEEK),
    files: certFiles,
    retry: { baseMs: config.ACME_RETRY_BASE_MS, maxMs: config.ACME_RETRY_MAX_MS },
    directoryUrl: config.ACME_DIRECTORY_URL,
  });
  const activator = new DomainActivator({ db, routes, certificates, events, logger });
  const renewal = new CertificateRenewal({
    db,
    routes,
    certificates,
    activator,
    events,
    logger,
    renewBeforeDays: config.ACME_RENEW_BEFORE_DAYS,
    warningDays: config.ACME_EXPIRY_WARNING_DAYS,
  });
  return { routes, certificates, activator, renewal, applier };
}

export interface HttpsModule {
  /** For the environments module's delete hook: removes every route of the environment. */
  removeEnvironmentRoutes(environmentId: string): Promise<number>;
}

export function registerHttpsModule(ctx: ProcessContext): HttpsModule {
  const { config, db, redis, docker, logger } = ctx.infra;
  // BullMQ wants its own connections without a per-command retry limit.
  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  const work = new BullDomainWork(connection, config.REDIS_PREFIX);
  ctx.components.push({ name: 'domain-queue', stop: async () => { await work.close(); connection.disconnect(); } });

  if (ctx.servesApi) {
    ctx.mounts.push((router, registry) => mountDomainRoutes(router, registry, { db, work, authenticator: ctx.authenticator }));
  }
  if (ctx.runsWorkers) {
    const edge = createEdge({ config, db, docker, events: ctx.events, logger });
    const worker = startDomainWorker({ activator: edge.activator, routes: edge.routes, logger }, connection, config.REDIS_PREFIX);
    watchWorker(ctx.metrics, worker);
    ctx.components.push({ name: 'domain-worker', stop: () => worker.close() });
    ctx.scheduler.add({ name: 'certificate-renewal', schedule: config.ACME_RENEWAL_SCHEDULE, lockTtlMs: 30 * 60_000, run: () => edge.renewal.run() });
    const follower = new DeploymentRouteFollower({ db, events: ctx.events, redis: redis.duplicate(), work, logger });
    ctx.components.push({ name: 'deployment-route-follower', stop: () => follower.stop() });
    void follower.start().catch((error) => logger.error({ err: error }, 'could not follow deployment events'));
    ctx.scheduler.add({ name: 'nginx-route-sync', schedule: config.NGINX_SYNC_SCHEDULE, lockTtlMs: 2 * 60_000, run: () => edge.routes.sync() });
  }
  return { removeEnvironmentRoutes: (environmentId) => removeEnvironmentRoutes({ db, work }, environmentId) };
}
