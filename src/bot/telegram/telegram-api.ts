import { TelegramError, type Telegram } from 'telegraf';
import type { ChatMessage } from '../chat-text.js';
import { DeliveryError, redactToken, sleep, type ChatSender } from '../../notify/chat-sender.js';
import type { Logger } from '../../logging/logger.js';
import { ChatPacer } from './chat-pacer.js';
import { renderTelegramHtml } from './telegram-html.js';

export interface TelegramApiOptions {
  /** Attempts for network errors and 5xx before giving up (429s are waited out separately). */
  maxAttempts: number;
  /** First backoff; doubles per attempt. */
  backoffMs: number;
  /** A `retry_after` longer than this is handed back to the caller instead of waited here. */
  maxWaitMs: number;
}

export const DEFAULT_TELEGRAM_API_OPTIONS: TelegramApiOptions = { maxAttempts: 3, backoffMs: 250, maxWaitMs: 30_000 };

const NOT_MODIFIED = /message is not modified/i;
const NOT_FOUND = /message to edit not found|message can't be edited/i;

/**
 * The one way Runway calls the Telegram Bot API (bot replies and
 * notifications alike): HTML parse mode, no link previews, per-chat pacing,
 * 429 `retry_after` waited out, network errors and 5xx retried with backoff,
 * and the bot token redacted from every error (telegraf's network errors
 * carry the request URL, which contains it).
 */
export class TelegramApi implements ChatSender {
  readonly platform = 'TELEGRAM' as const;
  private readonly options: TelegramApiOptions;

  constructor(
    private readonly telegram: Telegram,
    private readonly logger: Logger,
    options: Partial<TelegramApiOptions> = {},
    private readonly pacer = new ChatPacer(),
  ) {
    this.options = { ...DEFAULT_TELEGRAM_API_OPTIONS, ...options };
  }

  render(chat: ChatMessage): string {
    return renderTelegramHtml(chat);
  }

  async send(chatId: string, text: string): Promise<string> {
    const sent = await this.call(chatId, 'sendMessage', () =>
      this.telegram.sendMessage(chatId, text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } }),
    );
    return String(sent.message_id);
  }

  async edit(chatId: string, messageId: string, text: string): Promise<'edited' | 'missing'> {
    try {
      await this.call(chatId, 'editMessageText', () =>
        this.telegram.editMessageText(chatId, Number(messageId), undefined, text, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        }),
      );
      return 'edited';
    } catch (error) {
      if (error instanceof DeliveryError && NOT_MODIFIED.test(error.message)) return 'edited';
      if (error instanceof DeliveryError && NOT_FOUND.test(error.message)) return 'missing';
      throw error;
    }
  }

  /** Runs one Bot API call under the retry rules; throws only DeliveryError. */
  async call<T>(chatId: string | undefined, method: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      if (chatId) await this.pacer.take(chatId);
      try {
        return await run();
      } catch (error) {
        const retry = this.classify(error, method, attempt);
        if (retry.waitMs === undefined) throw retry.error;
        this.logger.warn({ method, attempt, waitMs: retry.waitMs, reason: retry.error.message }, 'telegram call retried');
        // A 429 holds back the whole chat, not just this call; the pacer waits it out on the next take().
        if (chatId && retry.rateLimited) this.pacer.penalize(chatId, retry.waitMs);
        else await sleep(retry.waitMs);
      }
    }
  }

  private classify(error: unknown, method: string, attempt: number): { error: DeliveryError; waitMs?: number; rateLimited?: boolean } {
    const token = this.telegram.token;
    if (error instanceof TelegramError) {
      const text = redactToken(`${method}: ${error.code} ${error.description}`, token);
      if (error.code === 429) {
        const waitMs = (error.parameters?.retry_after ?? 1) * 1000;
        if (waitMs > this.options.maxWaitMs) return { error: new DeliveryError(text, false, waitMs) };
        return { error: new DeliveryError(text, false, waitMs), waitMs, rateLimited: true };
      }
      if (error.code < 500) return { error: new DeliveryError(text, true) };
      return this.backoff(new DeliveryError(text, false), attempt);
    }
    const text = redactToken(`${method}: ${(error as Error)?.message ?? String(error)}`, token);
    return this.backoff(new DeliveryError(text, false), attempt);
  }

  private backoff(error: DeliveryError, attempt: number): { error: DeliveryError; waitMs?: number } {
    if (attempt >= this.options.maxAttempts) return { error };
    return { error, waitMs: this.options.backoffMs * 2 ** (attempt - 1) };
  }
}
