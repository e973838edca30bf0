import { startHarness, type Harness } from '../../deployments/support/deployment-harness.js';
import { FakeDiscordServer, snowflake, type FakeInteraction } from '../../fakes/discord-server.js';
import { FakeTelegramBotApiServer, type FakeTelegramChat, type FakeTelegramMessage } from '../../fakes/telegram-bot-api-server.js';

/** Telegram ids the test configuration allows (TELEGRAM_ALLOWED_USERS / TELEGRAM_ADMINS). */
export const TG = { owner: 41_001, admin: 41_000, other: 41_002, stranger: 49_999 };
/** Discord ids the test configuration allows. */
export const DC = { owner: '81001', admin: '81000', stranger: '89999' };

export interface ChatHarness {
  h: Harness;
  telegram: FakeTelegramBotApiServer;
  discord: FakeDiscordServer;
  /** Sends a Telegram message and resolves with the bot's first new message in that chat that matches. */
  say(userId: number, chat: FakeTelegramChat, text: string, match?: (message: FakeTelegramMessage) => boolean): Promise<FakeTelegramMessage>;
  /** Runs a Discord slash command and resolves with the reply text. */
  slash(userId: string, name: string, options?: Record<string, string | number | boolean>, place?: { channelId: string; guildId?: string }): Promise<{ text: string; interaction: FakeInteraction }>;
  dmChannel: string;
  stop(): Promise<void>;
}

const privateChat = (id: number): FakeTelegramChat => ({ id, type: 'private' });
export const tgPrivate = privateChat;

/**
 * A whole Runway process (API + workers, real PostgreSQL, Redis and Docker
 * swarm) whose bots talk to the fake Telegram and Discord servers. The REST
 * owner is the chat user TG.owner / DC.owner.
 */
export async function startChatHarness(
  label: string,
  bots: { telegram?: boolean; discord?: boolean } = { telegram: true, discord: true },
  extraEnv: Record<string, string> = {},
): Promise<ChatHarness> {
  const telegram = new FakeTelegramBotApiServer();
  const discord = new FakeDiscordServer();
  await telegram.start();
  await discord.start();
  const env: Record<string, string> = {};
  if (bots.telegram) {
    Object.assign(env, {
      TELEGRAM_BOT_TOKEN: '700000001:fake-telegram-token',
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_ALLOWED_USERS: String(TG.owner),
      TELEGRAM_ADMINS: String(TG.admin),
    });
  }
  if (bots.discord) {
    Object.assign(env, { DISCORD_BOT_TOKEN: discord.token, DISCORD_API_BASE: discord.apiBase, DISCORD_ALLOWED_USERS: DC.owner, DISCORD_ADMINS: DC.admin });
  }
  const h = await startHarness(label, { ...env, ...extraEnv });
  await h.db.db.user.update({ where: { id: h.owner.user.id }, data: { telegramId: String(TG.owner), discordId: DC.owner } });
  // Polling and webhook mode both register the command menu once connected.
  if (bots.telegram) await telegram.waitFor(() => telegram.callsOf('setMyCommands').length > 0, 20_000);
  if (bots.discord) await discord.waitFor(() => discord.commands.length > 0, 20_000);
  const dmChannel = snowflake();

  return {
    h,
    telegram,
    discord,
    dmChannel,
    async say(userId, chat, text, match = () => true) {
      const known = new Set(telegram.messagesIn(chat.id).map((m) => m.message_id));
      telegram.sendText({ id: userId, first_name: `u${userId}` }, chat, text);
      // Deploy-status notifications share the chat; a reply is never one of them.
      const isNotification = (m: FakeTelegramMessage) => m.history[0]!.includes(' · job <code>');
      return telegram.waitFor(() => telegram.messagesIn(chat.id).find((m) => !known.has(m.message_id) && !isNotification(m) && match(m)), 20_000);
    },
    async slash(userId, name, options = {}, place = { channelId: dmChannel }) {
      const spec = discord.commands.find((c) => c.name === name) as { options?: { name: string; type: number }[] } | undefined;
      const typed = Object.entries(options).map(([key, value]) => ({ name: key, type: spec?.options?.find((o) => o.name === key)?.type ?? 3, value }));
      const interaction = discord.dispatchCommand({ user: { id: userId, username: `u${userId}` }, channelId: place.channelId, guildId: place.guildId, name, options: typed });
      return { text: await discord.waitForReply(interaction, 20_000), interaction };
    },
    async stop() {
      await h.stop();
      await telegram.stop();
      await discord.stop();
    },
  };
}
