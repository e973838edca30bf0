import { Writable } from 'node:stream';
import { REST } from 'discord.js';
import { Telegram } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { ChatDispatcher } from '../../src/bot/chat-dispatcher.js';
import type { ChatCommandHandler } from '../../src/bot/chat-command-handler.js';
import type { ChatCaller, ChatGatekeeper } from '../../src/bot/chat-gatekeeper.js';
import { renderTelegramHtml } from '../../src/bot/telegram/telegram-html.js';
import { DiscordApi } from '../../src/bot/discord/discord-api.js';
import { TelegramApi } from '../../src/bot/telegram/telegram-api.js';
import { createLogger } from '../../src/logging/logger.js';
import { DeliveryError } from '../../src/notify/chat-sender.js';

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

const caller: ChatCaller = {
  principal: { userId: 'u1', role: 'USER', scopes: [] }, userId: 'u1', role: 'USER', isAdmin: false, identity: { platform: 'TELEGRAM', userId: '1' },
};
const place = { platform: 'TELEGRAM' as const, chatId: '1', isPrivate: true };

describe('chat error handling', () => {
  it('answers a handler crash with a short message and a reference that is in the log with the details', async () => {
    const { lines, logger } = capturedLogger();
    const gatekeeper = { admit: async () => caller } as unknown as ChatGatekeeper;
    const handler = { execute: async () => { throw new Error('database exploded at row 7'); } } as unknown as ChatCommandHandler;
    const result = await new ChatDispatcher(gatekeeper, handler, logger).dispatch(caller.identity, place, 'envs', [], { canDirectMessage: false });
    const text = renderTelegramHtml(result.message);
    const ref = /Reference <b>([A-Z0-9]{8})<\/b>/.exec(text)?.[1];
    expect(ref).toBeDefined();
    expect(text).not.toContain('exploded');
    const logged = lines.find((line) => line.includes(ref!));
    expect(logged).toContain('database exploded at row 7');
  });

  it('never lets the bot token reach an error or a log', async () => {
    const token = '123456:SECRET-token-value';
    const { lines, logger } = capturedLogger();
    const api = new TelegramApi(new Telegram(token, { apiRoot: 'http://127.0.0.1:9' }), logger, { backoffMs: 10 });
    const error = await api.send('1', 'hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).permanent).toBe(false);
    expect((error as Error).message).not.toContain('SECRET');
    expect(lines.join('\n')).not.toContain('SECRET');
    const discordToken = 'discord.SECRET.token';
    const discord = new DiscordApi(new REST({ api: 'http://127.0.0.1:9/api', retries: 0, timeout: 1_000 }).setToken(discordToken), discordToken, logger, { backoffMs: 10 });
    const dError = await discord.send('1', 'hi').catch((e: unknown) => e);
    expect(dError).toBeInstanceOf(DeliveryError);
    expect(lines.join('\n')).not.toContain('SECRET');
  });
});

describe('redactedError', () => {
  it('removes the bot token from Error messages and from thrown non-Error values', async () => {
    const { redactedError } = await import('../../src/notify/chat-sender.js');
    expect(redactedError(new Error('GET /bot123:SECRET/getMe failed'), '123:SECRET')).toEqual({ message: 'GET /bot[redacted]/getMe failed' });
    expect(redactedError('raw 123:SECRET string', '123:SECRET')).toEqual({ message: 'raw [redacted] string' });
    expect(redactedError(undefined, '123:SECRET')).toEqual({ message: 'undefined' });
  });
});
