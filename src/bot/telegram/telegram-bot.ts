import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { Telegraf } from 'telegraf';
import type { Logger } from '../../logging/logger.js';
import { redactedError, sleepBeforeReconnect } from '../../notify/chat-sender.js';
import type { ChatDispatcher } from '../chat-dispatcher.js';
import { COMMANDS } from '../command-catalog.js';
import { TelegramApi } from './telegram-api.js';
import { fallbackComposer, featureComposer, TELEGRAM_FEATURES } from './telegram-composers.js';

export interface TelegramBotOptions {
  token: string;
  /** Bot API root (config TELEGRAM_API_ROOT): api.telegram.org, a self-hosted Bot API server, or a test fake. */
  apiRoot: string;
  /** Webhook mode: Telegram posts updates to `${publicUrl}${WEBHOOK_PATH}`; long polling when absent. */
  webhook?: { publicUrl: string; secret?: string };
  /** Longest wait between reconnection attempts while Telegram is unreachable. */
  maxBackoffMs?: number;
}

export const TELEGRAM_WEBHOOK_PATH = '/telegram/webhook';

/**
 * The Telegram front door: telegraf with one Composer per feature, a
 * bot.catch that never lets an error stop the bot, the command menu set at
 * start, and a supervisor that relaunches long polling whenever Telegram
 * fails (outage, 5xx, 409), so an outage never needs a restart.
 */
export class TelegramBot {
  readonly bot: Telegraf;
  readonly api: TelegramApi;
  private running: Promise<void> | undefined;
  private stopped = false;
  private stopping = new AbortController();

  constructor(private readonly dispatcher: ChatDispatcher, private readonly options: TelegramBotOptions, private readonly logger: Logger) {
    // webhookReply off: every call goes through the API (and our wrapper), never into the webhook's HTTP answer.
    this.bot = new Telegraf(options.token, { telegram: { apiRoot: options.apiRoot, webhookReply: false } });
    this.api = new TelegramApi(this.bot.telegram, logger);
    const deps = { dispatcher, api: this.api };
    for (const commands of Object.values(TELEGRAM_FEATURES)) this.bot.use(featureComposer(deps, commands));
    this.bot.use(fallbackComposer(deps));
    this.bot.catch((error, ctx) => {
      this.logger.error({ err: redactedError(error, options.token), updateId: ctx.update.update_id }, 'telegram handler failed');
    });
  }

  /** The secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token: configured, or derived from the token (same on every instance). */
  get webhookSecret(): string {
    return this.options.webhook?.secret ?? createHash('sha256').update(`runway-webhook:${this.options.token}`).digest('hex').slice(0, 48);
  }

  /** Starts in the background: polling (supervised), or registering the webhook. */
  start(): void {
    this.stopped = false;
    this.stopping = new AbortController();
    this.running = this.options.webhook ? this.registerWebhook() : this.supervisePolling();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    try {
      this.bot.stop('shutdown');
    } catch {
      // Not running (never connected): nothing to stop.
    }
    await this.running;
  }

  /** Express route for webhook mode, mounted by API processes. */
  mountWebhook(router: Router): void {
    const expected = Buffer.from(this.webhookSecret);
    router.post(TELEGRAM_WEBHOOK_PATH, (req: Request, res: Response) => {
      const given = Buffer.from(String(req.headers['x-telegram-bot-api-secret-token'] ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'Bad webhook secret', details: {}, suggestions: [], retryable: false } });
        return;
      }
      // Answer at once; Telegram retries slow webhooks. Errors end in bot.catch.
      res.status(200).json({ ok: true });
      void this.bot.handleUpdate(req.body).catch(() => undefined);
    });
  }

  private async supervisePolling(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      try {
        await this.bot.launch({ allowedUpdates: ['message'] }, () => {
          attempt = 0;
          this.logger.info({ bot: this.bot.botInfo?.username }, 'telegram bot polling');
          void this.registerCommands();
        });
      } catch (error) {
        this.logger.warn({ err: redactedError(error, this.options.token) }, 'telegram polling stopped; reconnecting');
      }
      if (this.stopped) return;
      await sleepBeforeReconnect(attempt, this.options.maxBackoffMs, this.stopping.signal);
    }
  }

  private async registerWebhook(): Promise<void> {
    const url = `${this.options.webhook!.publicUrl.replace(/\/$/, '')}${TELEGRAM_WEBHOOK_PATH}`;
    for (let attempt = 0; !this.stopped; attempt += 1) {
      try {
        await this.api.call(undefined, 'setWebhook', () =>
          this.bot.telegram.setWebhook(url, { secret_token: this.webhookSecret, allowed_updates: ['message'] }),
        );
        await this.registerCommands();
        this.logger.info({ url }, 'telegram webhook set');
        return;
      } catch (error) {
        this.logger.warn({ err: { message: (error as Error).message } }, 'telegram setWebhook failed; retrying');
        await sleepBeforeReconnect(attempt, this.options.maxBackoffMs, this.stopping.signal);
      }
    }
  }

  /** The command menu (setMyCommands), from the same catalog as /help. */
  async registerCommands(): Promise<void> {
    const commands = COMMANDS.filter((command) => !command.admin).map((command) => ({
      command: command.name,
      description: command.description.slice(0, 256),
    }));
    await this.api.call(undefined, 'setMyCommands', () => this.bot.telegram.setMyCommands(commands)).catch((error: Error) => {
      this.logger.warn({ err: { message: error.message } }, 'telegram setMyCommands failed');
    });
  }
}
