import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snowflake } from '../fakes/discord-server.js';
import { DC, startChatHarness, type ChatHarness } from './support/chat-harness.js';

/** The real discord.js client inside a whole Runway process, against the fake REST API and gateway. */
describe('Discord bot', () => {
  let c: ChatHarness;
  const guild = { guildId: snowflake(), channelId: snowflake() };

  beforeAll(async () => {
    c = await startChatHarness('bot_dc', { discord: true });
  });
  afterAll(() => c?.stop());

  it('registers slash commands with typed options and environment autocomplete', () => {
    const names = c.discord.commands.map((command) => command.name);
    expect(names).toContain('deploy');
    expect(names).toContain('allow');
    const deploy = c.discord.commands.find((command) => command.name === 'deploy') as { options: { name: string; type: number; required: boolean; autocomplete?: boolean }[] };
    expect(deploy.options[0]).toMatchObject({ name: 'env', type: 3, required: true, autocomplete: true });
    const logs = c.discord.commands.find((command) => command.name === 'logs') as { options: { name: string; type: number }[] };
    expect(logs.options.find((o) => o.name === 'lines')?.type).toBe(4);
  });

  it('refuses unknown users with a short message and nothing else', async () => {
    const before = await c.h.db.db.user.count();
    const { text } = await c.slash(DC.stranger, 'envs');
    expect(text).toBe('Sorry, you are not allowed to use this bot.');
    expect(await c.h.db.db.user.count()).toBe(before);
  });

  it('/start, /env_create, /envs and autocomplete of environment names', async () => {
    const start = await c.slash(DC.owner, 'start');
    expect(start.text).toContain(c.h.owner.user.id);
    const created = await c.slash(DC.owner, 'env_create', { name: 'dcshop' });
    expect(created.text).toContain('Created environment **dcshop**');
    expect((await c.slash(DC.owner, 'envs')).text).toContain('**dcshop**');
    const interaction = c.discord.dispatchCommand({
      user: { id: DC.owner, username: 'owner' }, channelId: c.dmChannel, name: 'deploy', autocomplete: true,
      options: [{ name: 'env', type: 3, value: 'dc', focused: true }],
    });
    await c.discord.waitFor(() => interaction.callbacks.length > 0);
    expect(interaction.callbacks[0]).toMatchObject({ type: 8, data: { choices: [{ name: 'dcshop', value: 'dcshop' }] } });
    const stranger = c.discord.dispatchCommand({
      user: { id: DC.stranger, username: 'x' }, channelId: c.dmChannel, name: 'deploy', autocomplete: true,
      options: [{ name: 'env', type: 3, value: '', focused: true }],
    });
    await c.discord.waitFor(() => stranger.callbacks.length > 0);
    expect(stranger.callbacks[0]).toMatchObject({ type: 8, data: { choices: [] } });
  });

  it('/api_create in a server sends the link by DM and says so; in a DM it answers directly', async () => {
    const { text, interaction } = await c.slash(DC.owner, 'api_create', {}, guild);
    expect(text).toContain('I sent you a DM');
    expect(interaction.callbacks[0]).toMatchObject({ type: 5, data: { flags: 64 } });
    const dm = c.discord.dmChannels.get(DC.owner)!;
    const message = await c.discord.waitFor(() => c.discord.messagesIn(dm)[0]);
    expect(message.content).toMatch(/<http:\/\/[^>]+\/auth\/verify\?token=[A-Za-z0-9_-]{32}>/);
    expect(message.flags & 4).toBe(4);
    const direct = await c.slash(DC.owner, 'api_create', { scopes: 'LOGS_READ' });
    expect(direct.text).toContain('auth/verify?token=');
    expect(direct.text).toContain('`LOGS_READ`');
  });

  it('/deploy with typed options, /status, /keys, /revoke, /logs, /rollback, /notify', async () => {
    const deploy = await c.slash(DC.owner, 'deploy', { env: 'dcshop', image: 'local/busybox:1', name: 'dcweb', port: '80', env_vars: 'A=1 B=2' });
    const jobId = /job `([0-9a-z]{16})`/.exec(deploy.text)?.[1];
    expect(jobId, deploy.text).toBeDefined();
    await c.h.waitForJob(jobId!);
    const status = await c.slash(DC.owner, 'status', { job_id: jobId! });
    expect(status.text).toContain('PENDING');
    expect(status.text).toContain('```');
    const keys = await c.slash(DC.owner, 'keys');
    expect(keys.text).toContain(c.h.owner.keyId);
    expect((await c.slash(DC.owner, 'revoke', { key_id: 'nosuchkey0000000' })).text).toContain('not found');
    expect((await c.slash(DC.owner, 'logs', { id: 'nosuchjob', lines: 5 })).text).toContain('Deployment not found');
    expect((await c.slash(DC.owner, 'rollback', { id: jobId! })).text).toContain('no earlier version that ran');
    expect((await c.slash(DC.owner, 'notify', { state: 'off' })).text).toContain('off for this chat');
    const target = await c.h.db.db.chatTarget.findFirst({ where: { platform: 'DISCORD', chatId: c.dmChannel } });
    expect(target?.enabled).toBe(false);
    expect((await c.slash(DC.owner, 'notify', { state: 'on' })).text).toContain('on for this chat');
  });

  it('admins allow users from chat', async () => {
    expect((await c.slash(DC.owner, 'allow', { user_id: '81003' })).text).toContain('Only admins');
    expect((await c.slash(DC.admin, 'allow', { user_id: '81003', admin: false })).text).toContain('may use Runway now');
    expect((await c.slash('81003', 'start')).text).toContain('You are Runway user');
  });

  it('reconnects to the gateway by itself after an outage', async () => {
    const identified = c.discord.gateway.identifyCount + c.discord.gateway.resumeCount;
    await c.discord.goDown();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await c.discord.start();
    await c.discord.waitFor(() => c.discord.gateway.identifyCount + c.discord.gateway.resumeCount > identified, 30_000);
    expect((await c.slash(DC.owner, 'envs')).text).toContain('dcshop');
  });
});
