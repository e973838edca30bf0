import type { Role, Scope } from '../generated/prisma/enums.js';

/** Who is calling: resolved from an API key (REST) or a chat identity (bots). */
export interface Principal {
  userId: string;
  role: Role;
  scopes: Scope[];
  /** The API key's public id, when the call came with a key. */
  keyId?: string;
}

/** ADMIN implies every scope (SPEC section 2). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes('ADMIN') || principal.scopes.includes(scope);
}
