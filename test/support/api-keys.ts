import { nanoid } from 'nanoid';
import { AccessUseCases } from '../../src/core/access/access-use-cases.js';
import { AuditLog } from '../../src/core/audit-log.js';
import type { Database } from '../../src/db/prisma.js';
import type { Role, Scope } from '../../src/generated/prisma/enums.js';
import { createLogger } from '../../src/logging/logger.js';

export interface UserWithKey {
  user: { id: string; role: Role; telegramId: string | null };
  /** Send as `X-API-Key` (or `Authorization: Bearer`). */
  apiKey: string;
  keyId: string;
}

/** The access use cases over a test database, outside any runtime (no Redis broadcast). */
export function testAccessUseCases(db: Database, options: { keyEnv?: string } = {}): AccessUseCases {
  return new AccessUseCases({
    db,
    audit: new AuditLog(db, createLogger({ level: 'silent' })),
    keyEnv: options.keyEnv ?? 'prod',
    publicUrl: 'http://127.0.0.1:3000',
    magicLinkTtlMs: 15 * 60_000,
    keyTtlMs: 0,
    revocations: { publishRevoked: async () => undefined },
  });
}

/**
 * A new user with one API key, made by the real key-issuing use case, for
 * authenticated route tests against the real middleware. `keyEnv` must match
 * the app's API_KEY_ENV (default `prod`, as in testConfig()).
 */
export async function createUserWithKey(
  db: Database,
  options: { scopes: Scope[]; role?: Role; expiresAt?: Date | null; keyEnv?: string },
): Promise<UserWithKey> {
  const user = await db.user.create({
    data: {
      id: nanoid(),
      telegramId: String(Math.floor(Math.random() * 1e12)),
      role: options.role ?? 'USER',
      allowed: true,
    },
  });
  const issued = await testAccessUseCases(db, { keyEnv: options.keyEnv }).issueKey({
    userId: user.id,
    scopes: options.scopes,
    expiresAt: options.expiresAt ?? null,
  });
  return { user: { id: user.id, role: user.role, telegramId: user.telegramId }, apiKey: issued.apiKey, keyId: issued.keyId };
}

/** Another key for an existing user. */
export async function createKeyForUser(
  db: Database,
  userId: string,
  options: { scopes: Scope[]; expiresAt?: Date | null; keyEnv?: string },
): Promise<{ apiKey: string; keyId: string }> {
  const issued = await testAccessUseCases(db, { keyEnv: options.keyEnv }).issueKey({
    userId,
    scopes: options.scopes,
    expiresAt: options.expiresAt ?? null,
  });
  return { apiKey: issued.apiKey, keyId: issued.keyId };
}
