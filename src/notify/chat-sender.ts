import type { ChatPlatform } from '../generated/prisma/enums.js';
import type { ChatMessage } from '../bot/chat-text.js';

/**
 * What the notifier and the bots need from a chat platform. One wrapper per
 * outside API implements it (src/bot/telegram/telegram-api.ts,
 * src/bot/discord/discord-api.ts) and holds that API's retry rules and token
 * redaction, so nothing above it sees a transport error or a token.
 */
export interface ChatSender {
  readonly platform: ChatPlatform;
  /** Platform text for a message, escaped and within the platform's limit. */
  render(chat: ChatMessage): string;
  /** Sends rendered text; returns the new message's id. Link previews are always off. */
  send(chatId: string, text: string): Promise<string>;
  /** Edits a message; `missing` when it no longer exists (deleted by the user). */
  edit(chatId: string, messageId: string, text: string): Promise<'edited' | 'missing'>;
}

/**
 * A delivery that did not happen. `permanent` ones (chat gone, bot blocked,
 * bad request) are not retried; the others are, after `retryAfterMs` when the
 * platform said so. Messages never carry the bot token.
 */
export class DeliveryError extends Error {
  readonly code = 'CHAT_DELIVERY_FAILED';

  constructor(message: string, readonly permanent: boolean, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Removes a token from any text that may reach a log or a chat. */
export function redactToken(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text;
}

/** An error as bots log it (`{ err: redactedError(error, token) }`): its message only, the token removed. */
export function redactedError(error: unknown, token: string | undefined): { message: string } {
  // Libraries sometimes throw non-Error values; logging one must not throw in turn.
  const message = error instanceof Error ? error.message : String(error);
  return { message: redactToken(message, token) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sleeps unless `signal` aborts first (so stop() does not wait out a reconnection backoff). */
export const sleepUnless = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Waits before a bot's next reconnection attempt: 500 ms doubling per failed
 * attempt up to `maxMs` (30 s by default), cut short when `signal` aborts.
 */
export const sleepBeforeReconnect = (attempt: number, maxMs: number | undefined, signal: AbortSignal) =>
  sleepUnless(Math.min(500 * 2 ** attempt, maxMs ?? 30_000), signal);
