import type { Database } from '../../db/prisma.js';
import type { AuditLog } from '../audit-log.js';
import { hasScope, type Principal } from '../principal.js';
import { Scope } from '../../generated/prisma/enums.js';

/** Tells every API instance that a key is revoked (Redis pub/sub in production). */
export interface KeyRevocationPublisher {
  publishRevoked(keyId: string): Promise<void>;
}

/** What the access use cases need; built once per process in the access module. */
export interface AccessDependencies {
  db: Database;
  audit: AuditLog;
  /** `env` part of new keys (config API_KEY_ENV). */
  keyEnv: string;
  /** Where links point: `${publicUrl}/auth/verify?token=...`. */
  publicUrl: string;
  magicLinkTtlMs: number;
  /** Lifetime of keys made from links; 0 means they never expire. */
  keyTtlMs: number;
  revocations: KeyRevocationPublisher;
  now?: () => Date;
}

export const ALL_SCOPES = Object.values(Scope) as Scope[];
/** SPEC section 5: a link without scopes carries every scope but ADMIN. */
export const DEFAULT_SCOPES = ALL_SCOPES.filter((scope) => scope !== 'ADMIN');

/** Admins are users with the ADMIN role acting with the ADMIN scope. */
export function actsAsAdmin(principal: Principal): boolean {
  return principal.role === 'ADMIN' && hasScope(principal, 'ADMIN');
}

/** The principal of an operator at the command line (`runway magic-link ...`). */
export const OPERATOR: Principal = Object.freeze({ userId: 'operator', role: 'ADMIN', scopes: ['ADMIN'] }) as Principal;

export const currentTime = (deps: Pick<AccessDependencies, 'now'>): Date => (deps.now ? deps.now() : new Date());
