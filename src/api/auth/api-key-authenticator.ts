import type { Request } from 'express';
import type { AuditLog } from '../../core/audit-log.js';
import { forbidden, rateLimited, unauthorized } from '../../core/errors.js';
import { hasScope, type Principal } from '../../core/principal.js';
import type { KeyRejection, KeyVerification } from '../../core/access/verify-api-key.js';
import type { Logger } from '../../logging/logger.js';
import type { RateLimits } from '../rate-limit/redis-rate-limits.js';
import type { RequestAuthenticator, RouteAccess } from '../route-builder.js';
import type { LastUsedRecorder } from './last-used-recorder.js';
import type { VerifiedKeyCache } from './verified-key-cache.js';

export interface AuthenticatorDependencies {
  verify(presented: string): Promise<KeyVerification>;
  cache: VerifiedKeyCache;
  rateLimits: RateLimits;
  lastUsed: LastUsedRecorder;
  audit: AuditLog;
  logger: Logger;
}

/** The one 401 every bad-key case gets, so a caller cannot tell them apart (issue 3). */
export function invalidKeyError() {
  return unauthorized('A valid API key is required', {
    suggestions: ['Send the key as X-API-Key: rw_... or Authorization: Bearer rw_...', 'Get a key with /api_create in the Telegram or Discord bot'],
  });
}

/**
 * The presented key, from `X-API-Key` or else `Authorization: Bearer`;
 * `null` for an Authorization header of another shape (a bad key, not a missing one).
 */
export function presentedKey(req: Request): string | null | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = req.headers.authorization;
  if (!authorization) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}

/**
 * Express side of API keys: cached verification, scopes, the general rate
 * limit per key, failed-attempt limits per client address, audit of denials.
 */
export class ApiKeyAuthenticator implements RequestAuthenticator {
  /** Concurrent first uses of one key share a single bcrypt compare. */
  private readonly inFlight = new Map<string, Promise<KeyVerification>>();

  constructor(private readonly deps: AuthenticatorDependencies) {}

  async authenticate(req: Request, access: Exclude<RouteAccess, 'public'>): Promise<Principal> {
    const principal = await this.resolve(req);
    await this.deps.rateLimits.consumeRequest(principal);
    if (access !== 'any' && !hasScope(principal, access)) {
      this.deny(req, 403, 'missing_scope', principal, { requiredScope: access });
      throw forbidden(`This key lacks the ${access} scope`, {
        details: { requiredScope: access },
        suggestions: [`Create a key with the ${access} scope via /api_create`],
      });
    }
    return principal;
  }

  /** Who the presented key belongs to, or the one 401. */
  private async resolve(req: Request): Promise<Principal> {
    const presented = presentedKey(req);
    if (presented === undefined) return this.reject(req, 'missing');
    if (presented === null) return this.reject(req, 'malformed');
    const fingerprint = this.deps.cache.fingerprint(presented);
    const cached = this.deps.cache.get(fingerprint);
    if (cached) {
      if (cached.keyExpiresAt && cached.keyExpiresAt.getTime() <= Date.now()) {
        this.deps.cache.dropKey(cached.principal.keyId ?? '');
        return this.reject(req, 'expired', cached.principal.keyId);
      }
      this.deps.lastUsed.touch(cached.apiKeyRowId);
      return cached.principal;
    }
    const blockedFor = await this.deps.rateLimits.authBlockedFor(clientAddress(req));
    if (blockedFor > 0) {
      this.deny(req, 429, 'too_many_failures', undefined, {});
      throw rateLimited(blockedFor, { details: { limit: 'failed_authentications' } });
    }
    const result = await this.verifyOnce(fingerprint, presented);
    if (!result.ok) return this.reject(req, result.reason, result.keyId);
    this.deps.cache.set(fingerprint, { principal: result.principal, apiKeyRowId: result.apiKeyRowId, keyExpiresAt: result.expiresAt });
    this.deps.lastUsed.touch(result.apiKeyRowId);
    return result.principal;
  }

  private verifyOnce(fingerprint: string, presented: string): Promise<KeyVerification> {
    let pending = this.inFlight.get(fingerprint);
    if (!pending) {
      pending = this.deps.verify(presented).finally(() => this.inFlight.delete(fingerprint));
      this.inFlight.set(fingerprint, pending);
    }
    return pending;
  }

  private async reject(req: Request, reason: KeyRejection, claimedKeyId?: string): Promise<never> {
    if (reason !== 'missing') await this.deps.rateLimits.recordAuthFailure(clientAddress(req));
    this.deny(req, 401, reason, undefined, claimedKeyId ? { claimedKeyId } : {});
    throw invalidKeyError();
  }

  private deny(req: Request, status: number, reason: string, principal: Principal | undefined, details: Record<string, unknown>): void {
    const ip = clientAddress(req);
    this.deps.logger.info({ method: req.method, path: req.path, status, reason, ip }, 'request denied');
    this.deps.audit.recordLater({
      action: 'request.denied',
      outcome: 'denied',
      actor: principal,
      ip,
      details: { method: req.method, path: req.path, status, reason, ...details },
    });
  }
}

function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
