import type { Principal } from '../principal.js';
import type { AccessDependencies } from './access-dependencies.js';
import { issueApiKey, listApiKeys, revokeApiKey, type ApiKeySummary, type IssuedApiKey } from './api-keys.js';
import { createMagicLink, deleteSpentMagicLinks, inspectMagicLink, redeemMagicLink, type CreatedMagicLink, type MagicLinkInput } from './magic-links.js';
import { verifyApiKey, type KeyVerification } from './verify-api-key.js';
import type { Scope } from '../../generated/prisma/enums.js';

/**
 * The access use cases bound to their dependencies: what REST routes, chat
 * bots and the operator CLI call. Every call that acts for someone takes the
 * acting Principal first, never a transport request.
 */
export class AccessUseCases {
  constructor(readonly deps: AccessDependencies) {}

  createMagicLink(actor: Principal, input: MagicLinkInput = {}): Promise<CreatedMagicLink> {
    return createMagicLink(this.deps, actor, input);
  }

  inspectMagicLink(token: string): Promise<{ scopes: Scope[]; expiresAt: Date }> {
    return inspectMagicLink(this.deps, token);
  }

  redeemMagicLink(token: string): Promise<IssuedApiKey> {
    return redeemMagicLink(this.deps, token);
  }

  listKeys(actor: Principal, options: { userId?: string } = {}): Promise<ApiKeySummary[]> {
    return listApiKeys(this.deps, actor, options);
  }

  revokeKey(actor: Principal, keyId: string): Promise<ApiKeySummary> {
    return revokeApiKey(this.deps, actor, keyId);
  }

  /** Issues a key directly (operator tooling and tests); users get keys through links. */
  issueKey(input: { userId: string; scopes: Scope[]; expiresAt?: Date | null; actor?: Principal }): Promise<IssuedApiKey> {
    return issueApiKey(this.deps, { ...input, via: 'direct' });
  }

  verifyKey(presented: string): Promise<KeyVerification> {
    return verifyApiKey(this.deps, presented);
  }

  deleteSpentLinks(): Promise<number> {
    return deleteSpentMagicLinks(this.deps);
  }
}
