/**
 * Removing routes. The Domain rows are the source of truth: deleting them and
 * asking the edge worker to sync removes the site files, reloads Nginx and
 * deletes the certificate files.
 */
import type { Database } from '../../db/prisma.js';
import { notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import type { DomainWork } from './domain-work.js';
import { normalizeHostname } from './hostname.js';
import { findOwnEnvironment } from './publish-domain.js';

export interface RemoveDomainDeps {
  db: Database;
  work: DomainWork;
}

export async function removeDomain(deps: RemoveDomainDeps, principal: Principal, input: { environmentId: string; domain: string }): Promise<void> {
  const environment = await findOwnEnvironment(deps.db, principal, input.environmentId);
  const hostname = normalizeHostname(input.domain);
  const removed = await deps.db.domain.deleteMany({ where: { environmentId: environment.id, hostname } });
  if (removed.count === 0) throw notFound(`Domain ${hostname} in this environment`);
  await deps.work.sync();
}

/**
 * Removes every route of an environment; the environments module calls this
 * when an environment is deleted (before or after deleting its row: the
 * Domain rows cascade, and the sync removes whatever is no longer in the table).
 */
export async function removeEnvironmentRoutes(deps: RemoveDomainDeps, environmentId: string): Promise<number> {
  const removed = await deps.db.domain.deleteMany({ where: { environmentId } });
  await deps.work.sync();
  return removed.count;
}
