/** What callers see of a domain: state, reason, certificate expiry. Never the key or its path. */
import type { Database } from '../../db/prisma.js';
import type { CertificateStatus, DomainStatus } from '../../generated/prisma/enums.js';

export interface DomainView {
  id: string;
  hostname: string;
  service: string;
  port: number;
  status: DomainStatus;
  reason: string | null;
  certificate: { status: CertificateStatus; expiresAt: string | null; nextAttemptAt: string | null } | null;
  createdAt: string;
}

interface DomainRow {
  id: string;
  hostname: string;
  port: number;
  status: DomainStatus;
  reason: string | null;
  createdAt: Date;
  service: { name: string };
  certificate: { status: CertificateStatus; expiresAt: Date | null; nextAttemptAt: Date | null } | null;
}

export function toDomainView(row: DomainRow): DomainView {
  return {
    id: row.id,
    hostname: row.hostname,
    service: row.service.name,
    port: row.port,
    status: row.status,
    reason: row.reason,
    certificate: row.certificate
      ? {
          status: row.certificate.status,
          expiresAt: row.certificate.expiresAt?.toISOString() ?? null,
          nextAttemptAt: row.certificate.nextAttemptAt?.toISOString() ?? null,
        }
      : null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The domains of one environment, for GET /environments/:id (environments module) and GET /environments/:id/public. */
export async function listEnvironmentDomains(db: Database, environmentId: string): Promise<DomainView[]> {
  const rows = await db.domain.findMany({
    where: { environmentId },
    orderBy: { hostname: 'asc' },
    include: { service: { select: { name: true } }, certificate: { select: { status: true, expiresAt: true, nextAttemptAt: true } } },
  });
  return rows.map(toDomainView);
}
