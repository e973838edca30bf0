/**
 * The persistent ACME account: one per CA directory, kept in AcmeAccount so
 * restarts reuse it and orders stay attributable to one account.
 */
import { nanoid } from 'nanoid';
import * as acme from 'acme-client';
import type { Database } from '../db/prisma.js';

export interface AcmeAccountRecord {
  id: string;
  accountKey: string;
  accountUrl?: string;
}

export class AcmeAccountStore {
  constructor(private readonly db: Database) {}

  async load(directoryUrl: string, email: string | undefined): Promise<AcmeAccountRecord> {
    const existing = await this.db.acmeAccount.findUnique({ where: { directoryUrl } });
    if (existing) return { id: existing.id, accountKey: existing.accountKey, accountUrl: existing.accountUrl ?? undefined };
    const accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    // upsert: two workers may create the account at once; the first key wins.
    const row = await this.db.acmeAccount.upsert({
      where: { directoryUrl },
      create: { id: nanoid(), directoryUrl, email: email ?? null, accountKey },
      update: {},
    });
    return { id: row.id, accountKey: row.accountKey, accountUrl: row.accountUrl ?? undefined };
  }

  async saveUrl(id: string, accountUrl: string): Promise<void> {
    await this.db.acmeAccount.update({ where: { id }, data: { accountUrl } });
  }
}
