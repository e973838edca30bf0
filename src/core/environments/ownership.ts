import { hasScope, type Principal } from '../principal.js';

/**
 * The `where` filter that limits a lookup to what the principal may see.
 * Another user's resources must answer 404, never 403 (SPEC section 4), so
 * ownership is part of the query, not a check after it. Admins see all.
 */
export function ownedBy(principal: Principal): { userId?: string } {
  return principal.role === 'ADMIN' && hasScope(principal, 'ADMIN') ? {} : { userId: principal.userId };
}

/**
 * The `where` filter for an environment named by id or, as chat commands do,
 * by name: ids follow `ownedBy`, names are looked up among the principal's
 * own environments only (names are unique per user, not across users).
 */
export function environmentByIdOrName(principal: Principal, idOrName: string) {
  return { ...ownedBy(principal), OR: [{ id: idOrName }, { userId: principal.userId, name: idOrName }] };
}
