/**
 * The scheduled renewal and retry pass: renews certificates well before they
 * expire, and retries failed first orders once their backoff has passed.
 * Runs under the scheduler's Redis lock, so one instance at a time.
 */
import type { Database } from '../../db/prisma.js';
import type { EventPublisher } from '../../events/runway-event.js';
import type { Logger } from '../../logging/logger.js';
import { publishDomainEvent, type DomainActivator } from './activate-domain.js';
import type { CertificateManager } from './certificate-manager.js';
import type { RouteSync } from './route-sync.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const STALE_PENDING_MS = 15 * 60 * 1000;

export interface RenewalDeps {
  db: Database;
  routes: RouteSync;
  certificates: CertificateManager;
  activator: DomainActivator;
  events: EventPublisher;
  logger: Logger;
  renewBeforeDays: number;
  warningDays: number;
}

export interface RenewalReport {
  renewed: string[];
  failed: string[];
  retried: string[];
}

export class CertificateRenewal {
  constructor(private readonly deps: RenewalDeps) {}

  async run(now: Date = new Date()): Promise<RenewalReport> {
    const report: RenewalReport = { renewed: [], failed: [], retried: [] };
    const attemptAllowed = { OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }] };
    const due = await this.deps.db.certificate.findMany({
      where: {
        OR: [
          { certPem: { not: null }, expiresAt: { lt: new Date(now.getTime() + this.deps.renewBeforeDays * DAY_MS) }, ...attemptAllowed },
          { certPem: null, status: 'FAILED', nextAttemptAt: { lte: now } },
        ],
      },
      include: { domain: { select: { hostname: true } } },
      orderBy: { expiresAt: 'asc' },
    });
    // A domain still PENDING long after it was asked for lost its job (a worker died): start it again.
    const stale = await this.deps.db.domain.findMany({
      where: { status: 'PENDING', updatedAt: { lt: new Date(now.getTime() - STALE_PENDING_MS) } },
      select: { id: true, hostname: true },
    });
    for (const domain of stale) {
      report.retried.push(domain.hostname);
      await this.deps.activator.activate(domain.id);
    }
    let renewedAny = false;
    for (const certificate of due) {
      if (certificate.certPem === null) {
        report.retried.push(certificate.domain.hostname);
        await this.deps.activator.activate(certificate.domainId);
        continue;
      }
      renewedAny = (await this.renew(certificate.id, certificate.domainId, certificate.domain.hostname, now, report)) || renewedAny;
    }
    // The key and chain were replaced in place; nginx reads them again only on reload.
    if (renewedAny) await this.deps.routes.reload();
    return report;
  }

  private async renew(certificateId: string, domainId: string, hostname: string, now: Date, report: RenewalReport): Promise<boolean> {
    const outcome = await this.deps.certificates.obtain(certificateId, hostname);
    if (outcome.ok) {
      report.renewed.push(hostname);
      await this.deps.db.domain.update({ where: { id: domainId }, data: { status: 'ACTIVE', reason: null } });
      await publishDomainEvent(this.deps, domainId, 'certificate.renewed', { expiresAt: outcome.expiresAt });
      return true;
    }
    report.failed.push(hostname);
    const reason = outcome.failure.describe();
    this.deps.logger.warn({ domainId, reason }, 'certificate renewal failed');
    await publishDomainEvent(this.deps, domainId, 'certificate.failed', { reason });
    const current = await this.deps.db.certificate.findUnique({ where: { id: certificateId } });
    if (current?.expiresAt && current.expiresAt.getTime() - now.getTime() < this.deps.warningDays * DAY_MS) {
      await publishDomainEvent(this.deps, domainId, 'certificate.expiring', { reason, expiresAt: current.expiresAt });
    }
    if (current?.expiresAt && current.expiresAt <= now) {
      // Browsers refuse it now: the domain is no longer working, say why.
      await this.deps.db.domain.update({ where: { id: domainId }, data: { status: 'FAILED', reason: `CERTIFICATE_EXPIRED: renewal failed: ${reason}` } });
    }
    return false;
  }
}
