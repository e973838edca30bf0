/**
 * Worker side of publishing a domain: route it over HTTP (so the CA can
 * fetch the challenge), obtain its certificate, then route HTTPS. The Domain
 * row ends ACTIVE, or FAILED with a reason a person can act on; both are
 * published as events for the chat notifier.
 */
import type { Database } from '../../db/prisma.js';
import type { EventPublisher, RunwayEvent } from '../../events/runway-event.js';
import type { Logger } from '../../logging/logger.js';
import type { CertificateManager } from './certificate-manager.js';
import type { RouteSync } from './route-sync.js';

export interface DomainActivatorDeps {
  db: Database;
  routes: RouteSync;
  certificates: CertificateManager;
  events: EventPublisher;
  logger: Logger;
}

const REUSE_MIN_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

type DomainEventType = Extract<RunwayEvent, { domainId: string }>['type'];

export async function publishDomainEvent(
  deps: { db: Database; events: EventPublisher; logger: Logger },
  domainId: string,
  type: DomainEventType,
  extra: { reason?: string; expiresAt?: Date | null } = {},
): Promise<void> {
  const domain = await deps.db.domain.findUnique({ where: { id: domainId }, include: { environment: { select: { userId: true } } } });
  if (!domain) return;
  await deps.events
    .publish({
      type,
      domainId,
      hostname: domain.hostname,
      ownerId: domain.environment.userId,
      environmentId: domain.environmentId,
      at: new Date().toISOString(),
      reason: extra.reason,
      expiresAt: extra.expiresAt?.toISOString(),
    })
    .catch((error) => deps.logger.error({ err: error, domainId, type }, 'could not publish domain event'));
}

export class DomainActivator {
  constructor(private readonly deps: DomainActivatorDeps) {}

  /**
   * Never leaves the domain PENDING: an unexpected error (Nginx down, a reload
   * that fails) ends FAILED too, with a retry scheduled like an ACME failure.
   */
  async activate(domainId: string): Promise<'ACTIVE' | 'FAILED' | 'GONE'> {
    try {
      return await this.activateNow(domainId);
    } catch (error) {
      const exists = await this.deps.db.domain.count({ where: { id: domainId } });
      if (exists === 0) return 'GONE';
      this.deps.logger.error({ err: error, domainId }, 'domain activation failed unexpectedly');
      return this.fail(domainId, `NGINX_UNAVAILABLE: ${(error as Error).message}`);
    }
  }

  private async activateNow(domainId: string): Promise<'ACTIVE' | 'FAILED' | 'GONE'> {
    const { db, routes, certificates } = this.deps;
    const domain = await db.domain.findUnique({ where: { id: domainId }, include: { certificate: true } });
    if (!domain) return 'GONE';
    const certificate = domain.certificate ?? (await db.certificate.create({ data: { id: domainId, domainId } }));

    const http = await routes.sync();
    const rejected = http.rejected.find((entry) => entry.fileName === `rw-${domain.hostname}.conf`);
    if (rejected) return this.fail(domainId, `NGINX_REJECTED: nginx refused the site (${rejected.error.trim()}); the previous configuration stays live`);

    // A certificate that is still good (the domain failed for another reason) is reused: orders are budgeted.
    const reusable = certificate.certPem && certificate.expiresAt && certificate.expiresAt.getTime() > Date.now() + REUSE_MIN_VALIDITY_MS;
    const outcome = reusable ? { ok: true as const, expiresAt: certificate.expiresAt! } : await certificates.obtain(certificate.id, domain.hostname);
    if (!outcome.ok) return this.fail(domainId, outcome.failure.describe(), false);

    const https = await routes.sync();
    const rejectedTls = https.rejected.find((entry) => entry.fileName === `rw-${domain.hostname}.conf`);
    if (rejectedTls) return this.fail(domainId, `NGINX_REJECTED: nginx refused the HTTPS site (${rejectedTls.error.trim()})`);
    await db.domain.update({ where: { id: domainId }, data: { status: 'ACTIVE', reason: null } });
    await publishDomainEvent(this.deps, domainId, 'domain.active', { expiresAt: outcome.expiresAt });
    return 'ACTIVE';
  }

  /** `retry`: schedule a retry here (failures outside ACME); ACME failures were scheduled by obtain(). */
  private async fail(domainId: string, reason: string, retry = true): Promise<'FAILED'> {
    await this.deps.db.domain.update({ where: { id: domainId }, data: { status: 'FAILED', reason } });
    if (retry) await this.deps.certificates.scheduleRetry(domainId, reason);
    this.deps.logger.warn({ domainId, reason }, 'domain failed');
    await publishDomainEvent(this.deps, domainId, 'domain.failed', { reason });
    return 'FAILED';
  }
}
