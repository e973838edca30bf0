import { describe, expect, it } from 'vitest';
import { ChatPacer } from '../../src/bot/telegram/chat-pacer.js';

async function timeTakes(pacer: ChatPacer, chatId: string, count: number): Promise<number[]> {
  const started = Date.now();
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    await pacer.take(chatId);
    times.push(Date.now() - started);
  }
  return times;
}

describe('Telegram per-chat pacing', () => {
  it('lets a burst through, then one message per interval; groups slower; a 429 holds the chat back', async () => {
    const pacer = new ChatPacer({ burst: 2, intervalMs: 100 }, { burst: 1, intervalMs: 300 });
    const privateTimes = await timeTakes(pacer, '42', 4);
    expect(privateTimes[1]).toBeLessThan(30);
    expect(privateTimes[2]).toBeGreaterThanOrEqual(90);
    expect(privateTimes[3]).toBeGreaterThanOrEqual(190);
    const groupTimes = await timeTakes(pacer, '-100', 2);
    expect(groupTimes[1]).toBeGreaterThanOrEqual(290);
    pacer.penalize('7', 400);
    const [afterPenalty] = await timeTakes(pacer, '7', 1);
    expect(afterPenalty).toBeGreaterThanOrEqual(390);
  });
});
