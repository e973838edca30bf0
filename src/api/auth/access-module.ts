import { AccessUseCases } from '../../core/access/access-use-cases.js';
import { spentLinksCleanupJob } from '../../core/access/housekeeping-job.js';
import { AuditLog } from '../../core/audit-log.js';
import type { ProcessContext } from '../../runtime.js';
import { RedisRateLimits } from '../rate-limit/redis-rate-limits.js';
import { mountAuthRoutes } from '../routes/auth-routes.js';
import { ApiKeyAuthenticator } from './api-key-authenticator.js';
import { LastUsedRecorder } from './last-used-recorder.js';
import { RedisRevocationChannel } from './revocation-channel.js';
import { VerifiedKeyCache } from './verified-key-cache.js';

/**
 * Plugs access into a process: `ctx.access` (use cases for bots and CLI),
 * `ctx.rateLimits` (for deployment routes), and when serving the API
 * `ctx.authenticator` plus the /auth routes. Register before other modules.
 */
export async function registerAccessModule(ctx: ProcessContext): Promise<void> {
  const { config, db, redis } = ctx.infra;
  const logger = ctx.infra.logger.child({ module: 'access' });
  const audit = new AuditLog(db, logger);
  const revocations = new RedisRevocationChannel(redis, config.REDIS_PREFIX, logger);
  const useCases = new AccessUseCases({
    db,
    audit,
    keyEnv: config.API_KEY_ENV,
    publicUrl: config.PUBLIC_URL,
    magicLinkTtlMs: config.MAGIC_LINK_TTL,
    keyTtlMs: config.API_KEY_TTL,
    revocations,
  });
  const rateLimits = new RedisRateLimits(redis, {
    prefix: config.REDIS_PREFIX,
    requestsPerWindow: config.RATE_LIMIT_MAX,
    windowMs: config.RATE_LIMIT_TTL,
    deploymentsPerMinute: config.DEPLOY_RATE_LIMIT,
    gitDeploymentsPerMinute: config.GIT_DEPLOY_RATE_LIMIT,
    authFailLimit: config.AUTH_FAIL_LIMIT,
    authFailWindowMs: config.AUTH_FAIL_WINDOW,
    onLimited: (principal, limit) =>
      audit.recordLater({ action: 'request.rate_limited', outcome: 'denied', actor: principal, details: { limit } }),
  });
  ctx.access = useCases;
  ctx.rateLimits = rateLimits;

  if (ctx.servesApi) {
    const cache = new VerifiedKeyCache(config.KEY_CACHE_TTL);
    await revocations.subscribe({
      onRevoked: (keyId) => cache.dropKey(keyId),
      onSuspend: () => cache.suspend(),
      onResync: () => cache.resume(),
    });
    const lastUsed = new LastUsedRecorder(db, logger, config.KEY_LAST_USED_FLUSH);
    lastUsed.start();
    const authenticator = new ApiKeyAuthenticator({
      verify: (presented) => useCases.verifyKey(presented),
      cache,
      rateLimits,
      lastUsed,
      audit,
      logger,
    });
    ctx.authenticator = authenticator;
    ctx.mounts.push((router, registry) => mountAuthRoutes(router, registry, { useCases, authenticator }));
    ctx.components.push({
      name: 'access',
      async stop() {
        await lastUsed.stop();
        await revocations.stop();
      },
    });
  }
  if (ctx.runsWorkers) ctx.scheduler.add(spentLinksCleanupJob(useCases, logger));
}
