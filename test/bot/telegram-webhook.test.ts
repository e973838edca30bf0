import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatHarness, TG, type ChatHarness } from './support/chat-harness.js';

/** Webhook mode: the worker registers the webhook, the API process receives updates and checks Telegram's secret header. */
describe('Telegram bot in webhook mode', () => {
  let c: ChatHarness;
  beforeAll(async () => {
    c = await startChatHarness('bot_hook', { telegram: true }, { TELEGRAM_MODE: 'webhook', PUBLIC_URL: 'https://runway.example.test' });
  });
  afterAll(() => c?.stop());

  const update = (text: string) => ({
    update_id: Math.floor(Math.random() * 1e6),
    message: {
      message_id: 1, date: Math.floor(Date.now() / 1000), text,
      from: { id: TG.owner, is_bot: false, first_name: 'Owner' },
      chat: { id: TG.owner, type: 'private', first_name: 'Owner' },
      entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
    },
  });
  const post = (body: unknown, secret?: string) =>
    fetch(`${c.h.url}/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
      body: JSON.stringify(body),
    });

  it('registers the webhook under PUBLIC_URL with a secret token, and never polls', () => {
    expect(c.telegram.webhook?.url).toBe('https://runway.example.test/telegram/webhook');
    expect(c.telegram.webhook?.secret_token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(c.telegram.callsOf('getUpdates')).toHaveLength(0);
  });

  it('rejects updates without the right X-Telegram-Bot-Api-Secret-Token', async () => {
    expect((await post(update('/envs'))).status).toBe(401);
    expect((await post(update('/envs'), 'wrong-secret')).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(c.telegram.messagesIn(TG.owner)).toHaveLength(0);
  });

  it('answers commands that arrive with the right secret', async () => {
    const response = await post(update('/start'), c.telegram.webhook!.secret_token);
    expect(response.status).toBe(200);
    const reply = await c.telegram.waitFor(() => c.telegram.messagesIn(TG.owner)[0]);
    expect(reply.text).toContain('You are Runway user');
  });
});
