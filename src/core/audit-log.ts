import { nanoid } from 'nanoid';
import type { Database } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';
import type { Principal } from './principal.js';

export interface AuditEntry {
  /** Dotted verb, e.g. `api_key.created`, `request.denied`. */
  action: string;
  outcome: 'success' | 'denied' | 'failure';
  actor?: Pick<Principal, 'userId' | 'keyId'>;
  targetType?: string;
  targetId?: string;
  ip?: string;
  /** Never put secrets here: keys, tokens, env values. */
  details?: Record<string, unknown>;
}

/**
 * Writes who did what and when (issue 3). `record` awaits the write, for
 * changes that must not happen unaudited; `recordLater` is for the hot path
 * (denied requests), where a failed audit write must not change the answer.
 */
export class AuditLog {
  constructor(private readonly db: Database, private readonly logger: Logger) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db.auditLog.create({
      data: {
        id: nanoid(),
        action: entry.action,
        outcome: entry.outcome,
        actorUserId: entry.actor?.userId ?? null,
        actorKeyId: entry.actor?.keyId ?? null,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        ip: entry.ip ?? null,
        details: (entry.details ?? {}) as object,
      },
    });
  }

  recordLater(entry: AuditEntry): void {
    this.record(entry).catch((error: Error) =>
      this.logger.warn({ err: { message: error.message }, action: entry.action }, 'audit write failed'),
    );
  }
}
