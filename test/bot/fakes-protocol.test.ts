import { Client, GatewayIntentBits, Events, REST } from 'discord.js';
import { Telegraf } from 'telegraf';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer } from '../fakes/discord-server.js';
import { FakeTelegramBotApiServer } from '../fakes/telegram-bot-api-server.js';

/** The fakes are driven by the real libraries, so they must speak the protocols those libraries expect. */
describe('fake chat servers', () => {
  const telegram = new FakeTelegramBotApiServer();
  const discord = new FakeDiscordServer();
  afterAll(async () => {
    await telegram.stop();
    await discord.stop();
  });

  it('serves telegraf long polling, commands and replies', async () => {
    const apiRoot = await telegram.start();
    const bot = new Telegraf('123:abc', { telegram: { apiRoot } });
    bot.command('ping', (ctx) => ctx.reply(`pong ${ctx.from.id}`));
    void bot.launch();
    telegram.sendText({ id: 42, first_name: 'Ann' }, { id: 42, type: 'private' }, '/ping');
    const reply = await telegram.waitFor(() => telegram.messagesIn(42)[0]);
    expect(reply.text).toBe('pong 42');
    bot.stop();
  });

  it('serves discord.js gateway, commands and interaction replies', async () => {
    await discord.start();
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiBase } });
    client.on(Events.InteractionCreate, async (interaction) => {
      if (interaction.isChatInputCommand()) await interaction.reply({ content: `pong ${interaction.options.getString('who')}` });
    });
    const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
    await client.login(discord.token);
    await ready;
    await client.application!.commands.set([{ name: 'ping', description: 'ping', options: [{ name: 'who', description: 'w', type: 3 }] }]);
    expect(discord.commands.map((c) => c.name)).toEqual(['ping']);
    const interaction = discord.dispatchCommand({ user: { id: '555', username: 'ann' }, channelId: '777', name: 'ping', options: [{ name: 'who', type: 3, value: 'x' }] });
    expect(await discord.waitForReply(interaction)).toBe('pong x');
    const rest = new REST({ api: discord.apiBase }).setToken(discord.token);
    discord.rateLimit({ pathIncludes: '/messages', retryAfter: 0.3 });
    const started = Date.now();
    await rest.post('/channels/888/messages', { body: { content: 'hi' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(discord.messagesIn('888')[0]?.content).toBe('hi');
    await client.destroy();
  });
});
