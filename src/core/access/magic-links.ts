import { nanoid } from 'nanoid';
import { badRequest, forbidden, gone, notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Scope } from '../../generated/prisma/enums.js';
import { actsAsAdmin, ALL_SCOPES, currentTime, DEFAULT_SCOPES, type AccessDependencies } from './access-dependencies.js';
import { issueApiKey, type IssuedApiKey } from './api-keys.js';
import { hashLinkToken } from './secret-hashing.js';

/** SPEC section 2: a one-time, 32-character random token. */
const TOKEN_LENGTH = 32;
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export interface CreatedMagicLink {
  /** `PUBLIC_URL/auth/verify?token=...`: a secret; send it only to private chats. */
  url: string;
  token: string;
  scopes: Scope[];
  expiresAt: Date;
}

export interface MagicLinkInput {
  /** Whose key the link creates; defaults to the actor. Only admins may name someone else. */
  userId?: string;
  /** Defaults to every scope but ADMIN. */
  scopes?: readonly string[];
}

function checkScopes(actor: Principal, requested: readonly string[] | undefined): Scope[] {
  const scopes = [...new Set(requested && requested.length > 0 ? requested : DEFAULT_SCOPES)];
  const unknown = scopes.filter((scope) => !ALL_SCOPES.includes(scope as Scope));
  if (unknown.length > 0) {
    throw badRequest(`Unknown scope: ${unknown.join(', ')}`, { details: { unknown }, suggestions: [`Scopes: ${ALL_SCOPES.join(', ')}`] });
  }
  if (scopes.includes('ADMIN') && actor.role !== 'ADMIN') {
    throw forbidden('Only admins may grant the ADMIN scope', { suggestions: [`Ask for: ${DEFAULT_SCOPES.join(' ')}`] });
  }
  return scopes as Scope[];
}

/** Makes a one-time link that creates a key with the given scopes when redeemed. */
export async function createMagicLink(deps: AccessDependencies, actor: Principal, input: MagicLinkInput = {}): Promise<CreatedMagicLink> {
  const userId = input.userId ?? actor.userId;
  if (userId !== actor.userId && !actsAsAdmin(actor)) throw forbidden('Only admins may create links for other users');
  const scopes = checkScopes(actor, input.scopes);
  const user = await deps.db.user.findUnique({ where: { id: userId }, select: { id: true } });
  if (!user) throw notFound('User', { details: { userId } });
  const token = nanoid(TOKEN_LENGTH);
  const expiresAt = new Date(currentTime(deps).getTime() + deps.magicLinkTtlMs);
  const id = nanoid();
  await deps.db.magicLink.create({
    data: { id, tokenHash: hashLinkToken(token), userId, scopes, expiresAt, createdById: actor.userId },
  });
  await deps.audit.record({
    action: 'magic_link.created',
    outcome: 'success',
    actor,
    targetType: 'magic_link',
    targetId: id,
    details: { ownerUserId: userId, scopes, expiresAt },
  });
  const url = new URL('/auth/verify', deps.publicUrl);
  url.searchParams.set('token', token);
  return { url: url.toString(), token, scopes, expiresAt };
}

async function findUsableLink(deps: AccessDependencies, token: string) {
  if (!LINK_TOKEN_PATTERN.test(token)) throw notFound('Magic link');
  const link = await deps.db.magicLink.findUnique({ where: { tokenHash: hashLinkToken(token) } });
  if (!link) throw notFound('Magic link');
  if (link.usedAt) throw gone('This link was already used', { suggestions: ['Ask the bot for a new link with /api_create'] });
  if (link.expiresAt <= currentTime(deps)) throw gone('This link has expired', { suggestions: ['Ask the bot for a new link with /api_create'] });
  return link;
}

/**
 * Reads a link without using it: chat clients and link scanners prefetch
 * URLs, so only an explicit POST may spend the token. 404 unknown, 410 used/expired.
 */
export async function inspectMagicLink(deps: AccessDependencies, token: string): Promise<{ scopes: Scope[]; expiresAt: Date }> {
  const link = await findUsableLink(deps, token);
  return { scopes: link.scopes, expiresAt: link.expiresAt };
}

/** Spends the token once and returns the new key, exactly once. */
export async function redeemMagicLink(deps: AccessDependencies, token: string): Promise<IssuedApiKey> {
  const link = await findUsableLink(deps, token);
  const now = currentTime(deps);
  const expiresAt = deps.keyTtlMs > 0 ? new Date(now.getTime() + deps.keyTtlMs) : null;
  return issueApiKey(
    deps,
    { userId: link.userId, scopes: link.scopes, expiresAt, via: 'magic_link', actor: { userId: link.userId, role: 'USER', scopes: [] } },
    async (tx, apiKeyRowId) => {
      // The claim is the conditional update: of two concurrent redeems, one wins.
      const claimed = await tx.magicLink.updateMany({
        where: { id: link.id, usedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now, apiKeyId: apiKeyRowId },
      });
      if (claimed.count !== 1) throw gone('This link was already used');
    },
  );
}

/** Housekeeping: used and expired links are of no further use. */
export async function deleteSpentMagicLinks(deps: Pick<AccessDependencies, 'db' | 'now'>): Promise<number> {
  const result = await deps.db.magicLink.deleteMany({
    where: { OR: [{ usedAt: { not: null } }, { expiresAt: { lte: currentTime(deps) } }] },
  });
  return result.count;
}
