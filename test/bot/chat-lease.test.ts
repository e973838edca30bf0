import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramBotApiServer } from '../fakes/telegram-bot-api-server.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { TG, tgPrivate } from './support/chat-harness.js';

/** Several worker processes: one runs the bots and the notifier, another takes over when it stops. */
describe('chat lease across worker processes', () => {
  const telegram = new FakeTelegramBotApiServer();
  let db: TestDatabase;
  const workers: RunwayInstance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('bot_lease');
    await telegram.start();
    const env = {
      DATABASE_URL: db.url,
      REDIS_PREFIX: uniquePrefix('lease').replace(/:/g, '-'),
      TELEGRAM_BOT_TOKEN: '700000002:lease-token',
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_ALLOWED_USERS: String(TG.owner),
      CHAT_LEASE_TTL_MS: '1500',
      LOG_LEVEL: 'info',
    };
    workers.push(await startRunway(env, 'worker'), await startRunway(env, 'worker'));
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop().catch(() => undefined);
    await telegram.stop();
    await db?.drop();
  });

  it('polls Telegram from one worker only, and fails over when that worker stops', async () => {
    await telegram.waitFor(() => telegram.callsOf('setMyCommands').length > 0, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(telegram.pollConflicts).toBe(0);
    const leaders = workers.filter((worker) => worker.logs.some((line) => line.includes('took the chat lease')));
    expect(leaders).toHaveLength(1);
    await leaders[0]!.stop();
    const standby = workers.find((worker) => worker !== leaders[0])!;
    await telegram.waitFor(() => standby.logs.some((line) => line.includes('took the chat lease')), 10_000);
    telegram.sendText({ id: TG.owner, first_name: 'o' }, tgPrivate(TG.owner), '/help');
    const reply = await telegram.waitFor(() => telegram.messagesIn(TG.owner)[0], 15_000);
    expect(reply.text).toContain('Commands');
    expect(telegram.pollConflicts).toBe(0);
  });

  it('runs without bots when no token is set', async () => {
    const plain = await startRunway({ DATABASE_URL: db.url, REDIS_PREFIX: uniquePrefix('nobots').replace(/:/g, '-'), LOG_LEVEL: 'info' }, 'all');
    workers.push(plain);
    expect(plain.logs.some((line) => line.includes('Telegram and Discord bots are off'))).toBe(true);
    expect((await fetch(`${plain.url}/`)).status).toBe(200);
    expect(plain.logs.some((line) => line.includes('took the chat lease'))).toBe(false);
  });
});
