import { sleep } from '../../notify/chat-sender.js';

/**
 * Token bucket per chat: Telegram allows about one message a second per chat
 * (short bursts tolerated) and answers 429 beyond that, so the wrapper waits
 * here first instead of collecting 429s.
 * https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
 */
export interface ChatPacerOptions {
  /** Messages that may go out back to back. */
  burst: number;
  /** Milliseconds to earn one more message. */
  intervalMs: number;
}

export const DEFAULT_PACER_OPTIONS: ChatPacerOptions = { burst: 3, intervalMs: 1_000 };
/** Groups are allowed about 20 messages a minute. */
export const GROUP_PACER_OPTIONS: ChatPacerOptions = { burst: 3, intervalMs: 3_000 };

export class ChatPacer {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `groupOptions` apply to group chats (negative Telegram chat ids). */
  constructor(
    private readonly options: ChatPacerOptions = DEFAULT_PACER_OPTIONS,
    private readonly groupOptions: ChatPacerOptions = GROUP_PACER_OPTIONS,
  ) {}

  private optionsFor(chatId: string): ChatPacerOptions {
    return chatId.startsWith('-') ? this.groupOptions : this.options;
  }

  /** Waits until a message may go to `chatId`, then takes its token. */
  async take(chatId: string): Promise<void> {
    const { burst, intervalMs } = this.optionsFor(chatId);
    for (;;) {
      const now = Date.now();
      const bucket = this.buckets.get(chatId) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / intervalMs);
      bucket.at = now;
      this.buckets.set(chatId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return;
      }
      await sleep(Math.ceil((1 - bucket.tokens) * intervalMs));
    }
  }

  /** Pushes a chat's next slot back after the platform said "retry after". */
  penalize(chatId: string, ms: number): void {
    this.buckets.set(chatId, { tokens: 1 - ms / this.optionsFor(chatId).intervalMs, at: Date.now() });
  }
}
