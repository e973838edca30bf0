import { DiscordAPIError, MessageFlags, Routes, type REST } from 'discord.js';
import type { ChatMessage } from '../chat-text.js';
import { DeliveryError, redactToken, sleep, type ChatSender } from '../../notify/chat-sender.js';
import type { Logger } from '../../logging/logger.js';
import { renderDiscordMarkdown } from './discord-markdown.js';

export interface DiscordApiOptions {
  /** Attempts for network errors and 5xx before giving up. */
  maxAttempts: number;
  /** First backoff; doubles per attempt. */
  backoffMs: number;
}

export const DEFAULT_DISCORD_API_OPTIONS: DiscordApiOptions = { maxAttempts: 3, backoffMs: 250 };

const UNKNOWN_MESSAGE = 10008;

/**
 * The one way Runway sends chat messages to Discord outside an interaction.
 * discord.js' REST client already honours Discord's per-route rate-limit
 * buckets and 429 `retry_after`; this adds retries for network errors and
 * 5xx, mentions and embeds off, and token redaction in errors.
 */
export class DiscordApi implements ChatSender {
  readonly platform = 'DISCORD' as const;
  private readonly options: DiscordApiOptions;

  constructor(
    private readonly rest: REST,
    private readonly token: string,
    private readonly logger: Logger,
    options: Partial<DiscordApiOptions> = {},
  ) {
    this.options = { ...DEFAULT_DISCORD_API_OPTIONS, ...options };
  }

  render(chat: ChatMessage): string {
    return renderDiscordMarkdown(chat);
  }

  async send(channelId: string, text: string): Promise<string> {
    const sent = (await this.call('createMessage', () =>
      this.rest.post(Routes.channelMessages(channelId), { body: messageBody(text) }),
    )) as { id: string };
    return sent.id;
  }

  async edit(channelId: string, messageId: string, text: string): Promise<'edited' | 'missing'> {
    try {
      await this.call('editMessage', () => this.rest.patch(Routes.channelMessage(channelId, messageId), { body: messageBody(text) }));
      return 'edited';
    } catch (error) {
      if (error instanceof DeliveryError && error.message.includes(`code ${UNKNOWN_MESSAGE}`)) return 'missing';
      throw error;
    }
  }

  /** Opens (or reuses) the DM channel with a user; returns its id. */
  async openDirectChannel(userId: string): Promise<string> {
    const channel = (await this.call('createDM', () => this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } }))) as {
      id: string;
    };
    return channel.id;
  }

  /** Runs one REST call under the retry rules; throws only DeliveryError. */
  async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run();
      } catch (error) {
        const failure = this.toDeliveryError(what, error);
        if (failure.permanent || attempt >= this.options.maxAttempts) throw failure;
        const waitMs = this.options.backoffMs * 2 ** (attempt - 1);
        this.logger.warn({ what, attempt, waitMs, reason: failure.message }, 'discord call retried');
        await sleep(waitMs);
      }
    }
  }

  private toDeliveryError(what: string, error: unknown): DeliveryError {
    if (error instanceof DiscordAPIError) {
      const text = redactToken(`${what}: ${error.status} code ${String(error.code)} ${error.message}`, this.token);
      return new DeliveryError(text, error.status < 500 && error.status !== 429);
    }
    return new DeliveryError(redactToken(`${what}: ${(error as Error)?.message ?? String(error)}`, this.token), false);
  }
}

/** No pings from deploy output, and no link embeds (Discord's link previews). */
export function messageBody(content: string): Record<string, unknown> {
  return { content, allowed_mentions: { parse: [] }, flags: MessageFlags.SuppressEmbeds };
}
