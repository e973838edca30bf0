/**
 * Obtains (or renews) the certificate of one domain and records the outcome:
 * files for Nginx, the Certificate row (PEM chain, expiry), the order in the
 * weekly budget, and on failure a reason plus the next attempt with
 * exponential backoff.
 */
import type { AcmeFailure } from '../../acme/acme-failure.js';
import { toAcmeFailure } from '../../acme/acme-failure.js';
import type { IssuedCertificate } from '../../acme/acme-issuer.js';
import type { CertificateFiles } from '../../acme/certificate-files.js';
import type { OrderBudget } from '../../acme/order-budget.js';
import type { Database } from '../../db/prisma.js';

export interface CertificateIssuer {
  issue(hostname: string): Promise<IssuedCertificate>;
}

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

export type CertificateOutcome =
  | { ok: true; expiresAt: Date }
  | { ok: false; failure: AcmeFailure; nextAttemptAt: Date; failures: number };

export function nextAttemptDelay(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
}

export class CertificateManager {
  constructor(
    private readonly deps: {
      db: Database;
      issuer: CertificateIssuer;
      budget: OrderBudget;
      files: CertificateFiles;
      retry: RetryPolicy;
      directoryUrl: string;
      now?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async obtain(certificateId: string, hostname: string): Promise<CertificateOutcome> {
    const { db, issuer, budget, files } = this.deps;
    let orderId: string | undefined;
    try {
      orderId = await budget.reserve(hostname);
      const issued = await issuer.issue(hostname);
      const paths = await files.save(hostname, issued.certPem, issued.keyPem);
      await db.certificate.update({
        where: { id: certificateId },
        data: {
          status: 'VALID',
          certPem: issued.certPem,
          keyPath: paths.keyPath,
          issuedAt: issued.issuedAt,
          expiresAt: issued.expiresAt,
          lastError: null,
          failures: 0,
          nextAttemptAt: null,
        },
      });
      await budget.settle(orderId, 'valid');
      return { ok: true, expiresAt: issued.expiresAt };
    } catch (error) {
      const failure = toAcmeFailure(error, this.deps.directoryUrl);
      if (orderId) await budget.settle(orderId, `failed: ${failure.reason}`);
      return this.recordFailure(certificateId, failure);
    }
  }

  /**
   * After a failure outside ACME (Nginx refused or unavailable), a domain that
   * has no certificate yet is retried by the renewal job like an ACME failure.
   */
  async scheduleRetry(domainId: string, reason: string): Promise<void> {
    const certificate = await this.deps.db.certificate.findUnique({ where: { domainId } });
    if (!certificate || certificate.certPem) return;
    const failures = certificate.failures + 1;
    await this.deps.db.certificate.update({
      where: { id: certificate.id },
      data: {
        status: 'FAILED',
        lastError: reason,
        failures,
        nextAttemptAt: new Date(this.now().getTime() + nextAttemptDelay(this.deps.retry, failures)),
      },
    });
  }

  private async recordFailure(certificateId: string, failure: AcmeFailure): Promise<CertificateOutcome> {
    const current = await this.deps.db.certificate.findUniqueOrThrow({ where: { id: certificateId } });
    const failures = current.failures + 1;
    const backoff = new Date(this.now().getTime() + nextAttemptDelay(this.deps.retry, failures));
    const nextAttemptAt = failure.retryAt && failure.retryAt > backoff ? failure.retryAt : backoff;
    // A renewal that fails keeps the old certificate live: it stays VALID until it expires.
    const stillValid = current.certPem !== null && current.expiresAt !== null && current.expiresAt > this.now();
    await this.deps.db.certificate.update({
      where: { id: certificateId },
      data: {
        status: stillValid ? 'VALID' : current.certPem ? 'EXPIRED' : 'FAILED',
        lastError: failure.describe(),
        failures,
        nextAttemptAt,
      },
    });
    return { ok: false, failure, nextAttemptAt, failures };
  }
}
