import { allowUser } from '../core/users/allow-user.js';
import { serviceLimitsFromConfig } from '../core/service-options-schema.js';
import type { ProcessContext } from '../runtime.js';
import { DeployNotifier } from '../notify/deploy-notifier.js';
import type { LogTailSource } from '../notify/deployment-view.js';
import type { Senders } from '../notify/notice-delivery.js';
import { ChatCommandHandler, type ChatDeploymentUseCases } from './chat-command-handler.js';
import { ChatDispatcher } from './chat-dispatcher.js';
import { ChatGatekeeper } from './chat-gatekeeper.js';
import { DiscordBot } from './discord/discord-bot.js';
import { LeaderLease, type Led } from './leader-lease.js';
import { TelegramBot } from './telegram/telegram-bot.js';

/**
 * Registers the chat front doors and the deploy-status notifier (issue 6).
 * One worker process at a time (elected by a Redis lease, CHAT_LEASE_TTL_MS)
 * runs the bots (long polling or gateway) and the notifier; API processes
 * mount the Telegram webhook route when TELEGRAM_MODE=webhook.
 * A bot whose token is unset is off. Neither bot nor notifier can stop the
 * process: they reconnect and retry on their own. Call after the access and
 * deployment modules.
 */
export function registerChatModule(ctx: ProcessContext): void {
  const { config, db, logger, redis } = ctx.infra;
  const log = logger.child({ module: 'chat' });
  if (!config.TELEGRAM_BOT_TOKEN && !config.DISCORD_BOT_TOKEN) {
    log.info('no bot token set: Telegram and Discord bots are off');
    return;
  }
  if (!ctx.access) throw new Error('registerChatModule needs the access module registered first');
  const gatekeeper = new ChatGatekeeper(db, {
    TELEGRAM: { allowed: config.TELEGRAM_ALLOWED_USERS, admins: config.TELEGRAM_ADMINS },
    DISCORD: { allowed: config.DISCORD_ALLOWED_USERS, admins: config.DISCORD_ADMINS },
  });
  const rateLimits = ctx.rateLimits;
  const handler = new ChatCommandHandler({
    access: ctx.access,
    deployments: ctx.deployments as ChatDeploymentUseCases | undefined,
    gatekeeper,
    allowUser: (input) => allowUser({ db, logger: log }, input),
    limits: serviceLimitsFromConfig(config),
    limitDeployments: rateLimits ? (principal, kind) => rateLimits.consumeDeployment(principal, kind) : undefined,
  });
  const dispatcher = new ChatDispatcher(gatekeeper, handler, log);
  const senders: Senders = {};
  const led: Led[] = [];

  if (config.TELEGRAM_BOT_TOKEN) {
    const webhook = config.TELEGRAM_MODE === 'webhook' ? { publicUrl: config.PUBLIC_URL, secret: config.TELEGRAM_WEBHOOK_SECRET } : undefined;
    const telegram = new TelegramBot(dispatcher, { token: config.TELEGRAM_BOT_TOKEN, apiRoot: config.TELEGRAM_API_ROOT, webhook }, log.child({ bot: 'telegram' }));
    senders.TELEGRAM = telegram.api;
    if (webhook && ctx.servesApi) ctx.mounts.push((router) => telegram.mountWebhook(router));
    led.push(telegram);
  }
  if (config.DISCORD_BOT_TOKEN) {
    const discord = new DiscordBot(dispatcher, { token: config.DISCORD_BOT_TOKEN, apiBase: config.DISCORD_API_BASE }, log.child({ bot: 'discord' }));
    senders.DISCORD = discord.api;
    led.push(discord);
  }
  if (!ctx.runsWorkers) return;
  led.push(
    new DeployNotifier(
      { db, stream: ctx.events, redis, senders, logger: logger.child({ module: 'notifier' }), recorder: ctx.metrics, logTail: logTailFrom(ctx) },
      { prefix: config.REDIS_PREFIX },
    ),
  );
  // One worker at a time runs them (see LeaderLease); the others stand by.
  const lease = new LeaderLease(
    redis,
    `${config.REDIS_PREFIX}:lease:chat`,
    { start: () => led.forEach((each) => each.start()), stop: async () => void (await Promise.all(led.map((each) => each.stop()))) },
    log,
    { ttlMs: config.CHAT_LEASE_TTL_MS },
  );
  lease.start();
  ctx.components.push({ name: 'chat', stop: () => lease.stop() });
}

/** The FAILED message's last log lines, read as the owner through the logs use case while the service still exists. */
function logTailFrom(ctx: ProcessContext): LogTailSource | undefined {
  const logs = ctx.deployments?.logs;
  if (!logs) return undefined;
  return async (deployment, lines) => {
    const principal = { userId: deployment.userId, role: 'USER' as const, scopes: ['LOGS_READ' as const] };
    const stream = await logs.open(principal, deployment.id, { tail: lines, follow: false }, AbortSignal.timeout(3_000));
    const collected: string[] = [];
    for await (const entry of stream) collected.push(entry.line);
    return collected.slice(-lines);
  };
}
