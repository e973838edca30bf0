import { nanoid } from 'nanoid';
import { notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Scope } from '../../generated/prisma/enums.js';
import { actsAsAdmin, currentTime, type AccessDependencies } from './access-dependencies.js';
import { generateApiKey } from './api-key-format.js';
import { hashKeySecret } from './secret-hashing.js';

export interface IssuedApiKey {
  /** The full key; returned once and never stored. */
  apiKey: string;
  keyId: string;
  scopes: Scope[];
  expiresAt: Date | null;
}

export interface ApiKeySummary {
  keyId: string;
  scopes: Scope[];
  status: 'active' | 'revoked' | 'expired';
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/**
 * Creates a key for a user. Used by redeeming a magic link and by operator
 * tooling; `onCreated` runs inside the same transaction (links the key to
 * its magic link), so a key never exists without its record.
 */
export async function issueApiKey(
  deps: AccessDependencies,
  input: { userId: string; scopes: Scope[]; expiresAt?: Date | null; actor?: Principal; via?: string },
  onCreated?: (tx: Prisma.TransactionClient, apiKeyRowId: string) => Promise<void>,
): Promise<IssuedApiKey> {
  const generated = generateApiKey(deps.keyEnv);
  // Hash outside the transaction: bcrypt takes ~50 ms and must not hold a connection.
  const secretHash = await hashKeySecret(generated.secret);
  const scopes = [...new Set(input.scopes)];
  const id = nanoid();
  await deps.db.$transaction(async (tx) => {
    await tx.apiKey.create({
      data: { id, keyId: generated.keyId, userId: input.userId, secretHash, scopes, env: deps.keyEnv, expiresAt: input.expiresAt ?? null },
    });
    if (onCreated) await onCreated(tx, id);
  });
  await deps.audit.record({
    action: 'api_key.created',
    outcome: 'success',
    actor: input.actor ?? { userId: input.userId },
    targetType: 'api_key',
    targetId: generated.keyId,
    details: { ownerUserId: input.userId, scopes, via: input.via ?? 'direct', expiresAt: input.expiresAt ?? null },
  });
  return { apiKey: generated.apiKey, keyId: generated.keyId, scopes, expiresAt: input.expiresAt ?? null };
}

function summarize(
  key: { keyId: string; scopes: Scope[]; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null; revokedAt: Date | null },
  now: Date,
): ApiKeySummary {
  const status = key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt <= now ? 'expired' : 'active';
  return { keyId: key.keyId, scopes: key.scopes, status, createdAt: key.createdAt, expiresAt: key.expiresAt, lastUsedAt: key.lastUsedAt, revokedAt: key.revokedAt };
}

/** A user's keys, newest first, never their secrets. Only admins may list another user's keys. */
export async function listApiKeys(deps: AccessDependencies, actor: Principal, options: { userId?: string } = {}): Promise<ApiKeySummary[]> {
  const userId = options.userId ?? actor.userId;
  if (userId !== actor.userId && !actsAsAdmin(actor)) throw notFound('User');
  const keys = await deps.db.apiKey.findMany({ where: { userId }, orderBy: { createdAt: 'desc' } });
  const now = currentTime(deps);
  return keys.map((key) => summarize(key, now));
}

/**
 * Revokes one key of the actor (admins: of anyone); another user's key is
 * "not found" (SPEC section 4). Revoking twice is harmless and re-broadcasts.
 */
export async function revokeApiKey(deps: AccessDependencies, actor: Principal, keyId: string): Promise<ApiKeySummary> {
  const key = await deps.db.apiKey.findUnique({ where: { keyId } });
  if (!key || (key.userId !== actor.userId && !actsAsAdmin(actor))) throw notFound('API key', { details: { keyId } });
  const revoked = key.revokedAt
    ? key
    : await deps.db.apiKey.update({ where: { id: key.id }, data: { revokedAt: currentTime(deps) } });
  await deps.audit.record({
    action: 'api_key.revoked',
    outcome: 'success',
    actor,
    targetType: 'api_key',
    targetId: keyId,
    details: { ownerUserId: key.userId, alreadyRevoked: Boolean(key.revokedAt) },
  });
  // Broadcast before answering, so the caller's next request fails on every instance.
  await deps.revocations.publishRevoked(keyId);
  return summarize(revoked, currentTime(deps));
}
