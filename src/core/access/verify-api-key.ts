import type { Principal } from '../principal.js';
import { currentTime, type AccessDependencies } from './access-dependencies.js';
import { parseApiKey } from './api-key-format.js';
import { compareKeySecret, decoyKeyHash } from './secret-hashing.js';

/** Why a key failed: for the audit log only, never for the caller (one 401 for all). */
export type KeyRejection = 'missing' | 'malformed' | 'wrong_env' | 'unknown' | 'wrong_secret' | 'revoked' | 'expired';

export type KeyVerification =
  | { ok: true; principal: Principal; apiKeyRowId: string; expiresAt: Date | null }
  | { ok: false; reason: KeyRejection; keyId?: string };

/**
 * Checks a presented key against the database with bcrypt. Costs ~50 ms of
 * CPU, so callers cache successes (src/api/auth). Unknown key ids are compared
 * against a decoy hash so every failure takes about as long.
 */
export async function verifyApiKey(deps: Pick<AccessDependencies, 'db' | 'keyEnv' | 'now'>, presented: string): Promise<KeyVerification> {
  const parsed = parseApiKey(presented);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const key = await deps.db.apiKey.findUnique({
    where: { keyId: parsed.keyId },
    include: { user: { select: { role: true } } },
  });
  const matches = await compareKeySecret(parsed.secret, key?.secretHash ?? (await decoyKeyHash()));
  if (!key) return { ok: false, reason: 'unknown', keyId: parsed.keyId };
  if (!matches) return { ok: false, reason: 'wrong_secret', keyId: parsed.keyId };
  if (parsed.env !== deps.keyEnv || key.env !== parsed.env) return { ok: false, reason: 'wrong_env', keyId: parsed.keyId };
  if (key.revokedAt) return { ok: false, reason: 'revoked', keyId: parsed.keyId };
  if (key.expiresAt && key.expiresAt <= currentTime(deps)) return { ok: false, reason: 'expired', keyId: parsed.keyId };
  return {
    ok: true,
    principal: { userId: key.userId, role: key.user.role, scopes: key.scopes, keyId: key.keyId },
    apiKeyRowId: key.id,
    expiresAt: key.expiresAt,
  };
}
