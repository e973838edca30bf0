import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import { LeasedLimiter, leaseSizeFor } from './leased-limiter.js';

export interface RateLimitOptions {
  /** Redis key prefix of this installation (config REDIS_PREFIX). */
  prefix: string;
  /** General per-key requests per window (RATE_LIMIT_MAX per RATE_LIMIT_TTL ms). */
  requestsPerWindow: number;
  windowMs: number;
  deploymentsPerMinute: number;
  gitDeploymentsPerMinute: number;
  /** Failed authentications per client address per authFailWindowMs. */
  authFailLimit: number;
  authFailWindowMs: number;
  /** Told about every refused request or deployment (the access module audits them). */
  onLimited?: (principal: Principal, limit: string) => void;
}

export type DeploymentKind = 'image' | 'git';

/** What routes and the authenticator call; every check throws a 429 AppError with retryAfterSeconds. */
export interface RateLimits {
  /** The general per-key request limit (the authenticator calls this for every authenticated request). */
  consumeRequest(principal: Principal): Promise<void>;
  /** Deployment routes call this before enqueueing: 5/min per key, and for Git also 3/min. */
  consumeDeployment(principal: Principal, kind: DeploymentKind): Promise<void>;
  /** Seconds the address must still wait, or 0 when it may try to authenticate. */
  authBlockedFor(ip: string): Promise<number>;
  /** Counts one failed authentication of the address. */
  recordAuthFailure(ip: string): Promise<void>;
}

/** Limits per key; chat callers without a key are limited per user. */
const subjectOf = (principal: Principal) => (principal.keyId ? `key:${principal.keyId}` : `user:${principal.userId}`);

function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Redis-backed limits shared by every API instance (rate-limiter-flexible's
 * atomic Lua counters). While Redis is unreachable an in-memory limiter of
 * the same size stands in, so an outage degrades to per-instance limits
 * instead of failing every request.
 */
export class RedisRateLimits implements RateLimits {
  private readonly requests: LeasedLimiter;
  private readonly deployments: RateLimiterAbstract;
  private readonly gitDeployments: RateLimiterAbstract;
  private readonly authFailures: RateLimiterAbstract;
  private readonly requestLimit: { points: number; duration: number };

  constructor(redis: Redis, private readonly options: RateLimitOptions) {
    const make = (name: string, points: number, durationMs: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${options.prefix}:rl:${name}`,
        points,
        duration: toSeconds(durationMs),
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: toSeconds(durationMs) }),
      });
    // The general limit is checked on every request: leased, so it rarely needs Redis.
    this.requests = new LeasedLimiter(make('req', options.requestsPerWindow, options.windowMs), leaseSizeFor(options.requestsPerWindow));
    this.requestLimit = { points: options.requestsPerWindow, duration: toSeconds(options.windowMs) };
    this.deployments = make('deploy', options.deploymentsPerMinute, 60_000);
    this.gitDeployments = make('deploy-git', options.gitDeploymentsPerMinute, 60_000);
    this.authFailures = make('auth-fail', options.authFailLimit, options.authFailWindowMs);
  }

  async consumeRequest(principal: Principal): Promise<void> {
    await this.watch(principal, consumeOrThrow(this.requests, subjectOf(principal), 'requests', this.requestLimit));
  }

  async consumeDeployment(principal: Principal, kind: DeploymentKind): Promise<void> {
    if (kind === 'git') await this.watch(principal, consumeOrThrow(this.gitDeployments, subjectOf(principal), 'git_deployments', this.gitDeployments));
    await this.watch(principal, consumeOrThrow(this.deployments, subjectOf(principal), 'deployments', this.deployments));
  }

  private async watch(principal: Principal, check: Promise<void>): Promise<void> {
    try {
      await check;
    } catch (error) {
      const limit = (error as { details?: { limit?: unknown } }).details?.limit;
      if (typeof limit === 'string') this.options.onLimited?.(principal, limit);
      throw error;
    }
  }

  async authBlockedFor(ip: string): Promise<number> {
    const state = await this.authFailures.get(ip).catch(() => null);
    if (!state || state.consumedPoints < this.options.authFailLimit) return 0;
    return toSeconds(state.msBeforeNext);
  }

  async recordAuthFailure(ip: string): Promise<void> {
    await this.authFailures.consume(ip).catch(() => undefined);
  }
}

async function consumeOrThrow(
  limiter: { consume(subject: string): Promise<unknown> },
  subject: string,
  limit: string,
  size: { points: number; duration: number },
): Promise<void> {
  try {
    await limiter.consume(subject);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      throw rateLimited(toSeconds(rejection.msBeforeNext), {
        details: { limit, allowed: size.points, windowSeconds: size.duration },
        suggestions: ['Wait for the time in Retry-After, then try again'],
      });
    }
    throw rejection;
  }
}
