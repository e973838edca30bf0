import { REST } from 'discord.js';
import { Redis } from 'ioredis';
import { Telegram } from 'telegraf';
import { DiscordApi } from '../../src/bot/discord/discord-api.js';
import { TelegramApi } from '../../src/bot/telegram/telegram-api.js';
import { createDatabase, type Database } from '../../src/db/prisma.js';
import { RedisEventStream } from '../../src/events/redis-event-stream.js';
import { createLogger } from '../../src/logging/logger.js';
import { DeployNotifier, type DeployNotifierOptions } from '../../src/notify/deploy-notifier.js';
import { FakeDiscordServer } from '../fakes/discord-server.js';
import { FakeTelegramBotApiServer } from '../fakes/telegram-bot-api-server.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

/** A notifier wired to the real Telegram/Discord clients, the fakes, a real Redis stream and PostgreSQL schema. */
export class NotifyHarness {
  readonly telegram = new FakeTelegramBotApiServer();
  readonly discord = new FakeDiscordServer();
  readonly prefix = uniquePrefix('notify');
  readonly redis = new Redis(TEST_REDIS_URL);
  readonly stream = new RedisEventStream(this.redis, { prefix: this.prefix });
  readonly logger = createLogger({ level: 'silent' });
  testDb!: TestDatabase;
  telegramApi!: TelegramApi;
  discordApi!: DiscordApi;
  notifier: DeployNotifier | undefined;
  private notifierDb: Database | undefined;

  /** `poolSize`: the notifier's own connection pool (production default 10); the test schema's pool otherwise. */
  constructor(private readonly options: { poolSize?: number } = {}) {}

  async start(): Promise<void> {
    this.testDb = await createTestDatabase('notify');
    if (this.options.poolSize) this.notifierDb = createDatabase(this.testDb.url, { poolSize: this.options.poolSize });
    await this.telegram.start();
    await this.discord.start();
    const telegram = new Telegram('123456:notifier-token', { apiRoot: this.telegram.apiRoot });
    this.telegramApi = new TelegramApi(telegram, this.logger, { backoffMs: 100 });
    const rest = new REST({ api: this.discord.apiBase, retries: 1, timeout: 2_000 }).setToken(this.discord.token);
    this.discordApi = new DiscordApi(rest, this.discord.token, this.logger, { backoffMs: 100 });
  }

  async startNotifier(options: Partial<DeployNotifierOptions> = {}): Promise<DeployNotifier> {
    this.notifier = new DeployNotifier(
      {
        db: this.notifierDb ?? this.testDb.db,
        stream: this.stream,
        redis: this.redis,
        senders: { TELEGRAM: this.telegramApi, DISCORD: this.discordApi },
        logger: this.logger,
      },
      { prefix: this.prefix, blockMs: 500, retryBaseMs: 200, retryMaxMs: 1_000, ...options },
    );
    this.notifier.start();
    await this.notifier.ready;
    return this.notifier;
  }

  async stop(): Promise<void> {
    await this.notifier?.stop();
    await this.telegram.stop();
    await this.discord.stop();
    const keys = await this.redis.keys(`${this.prefix}:*`);
    if (keys.length > 0) await this.redis.del(...keys);
    this.redis.disconnect();
    await this.notifierDb?.$disconnect();
    await this.testDb?.drop();
  }
}
