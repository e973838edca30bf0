import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAccessUseCases } from '../support/api-keys.js';
import { startChatHarness, TG, tgPrivate, type ChatHarness } from './support/chat-harness.js';

/** The real telegraf bot inside a whole Runway process, against the fake Bot API. */
describe('Telegram bot', () => {
  let c: ChatHarness;
  const ownerChat = tgPrivate(TG.owner);
  const group = { id: -1_000_777, type: 'group' as const, title: 'ops' };

  beforeAll(async () => {
    c = await startChatHarness('bot_tg', { telegram: true });
  });
  afterAll(() => c?.stop());

  it('registers its command menu', () => {
    const names = (c.telegram.commands as { command: string }[]).map((command) => command.command);
    expect(names).toEqual(['start', 'help', 'api_create', 'keys', 'revoke', 'envs', 'env_create', 'deploy', 'status', 'logs', 'rollback', 'notify']);
  });

  it('refuses unknown users with a short message and nothing else', async () => {
    const before = await c.h.db.db.user.count();
    const reply = await c.say(TG.stranger, tgPrivate(TG.stranger), '/envs');
    expect(reply.text).toBe('Sorry, you are not allowed to use this bot.');
    const groupReply = await c.say(TG.stranger, group, '/deploy shop nginx');
    expect(groupReply.text).toBe('Sorry, you are not allowed to use this bot.');
    expect(await c.h.db.db.user.count()).toBe(before);
    expect(await c.h.db.db.chatTarget.count({ where: { chatId: String(TG.stranger) } })).toBe(0);
  });

  it('/start tells who you are and links the chat for notifications', async () => {
    const reply = await c.say(TG.owner, ownerChat, '/start');
    expect(reply.parse_mode).toBe('HTML');
    expect(reply.text).toContain(c.h.owner.user.id);
    expect(reply.text).toContain('<code>/deploy &lt;env&gt; &lt;image[:tag]&gt;');
    expect(reply.text).not.toContain('/allow');
    const targets = await c.h.db.db.chatTarget.findMany({ where: { userId: c.h.owner.user.id } });
    expect(targets.map((t) => [t.platform, t.chatId])).toContainEqual(['TELEGRAM', String(TG.owner)]);
    const help = await c.say(TG.owner, ownerChat, '/help');
    expect(help.text).toContain('/notify on|off');
  });

  it('/env_create and /envs go through the environment use cases', async () => {
    const created = await c.say(TG.owner, ownerChat, '/env_create tgshop');
    expect(created.text).toContain('Created environment <b>tgshop</b>');
    const list = await c.say(TG.owner, ownerChat, '/envs');
    expect(list.text).toContain('<b>tgshop</b>');
    const bad = await c.say(TG.owner, ownerChat, '/env_create Not_A_Label');
    expect(bad.text).toContain('⚠️ name must be a DNS label');
    const dup = await c.say(TG.owner, ownerChat, '/env_create tgshop');
    expect(dup.text).toContain('already have an environment named');
  });

  it('/api_create answers only in private, with link previews off', async () => {
    const links = await c.h.db.db.magicLink.count();
    const inGroup = await c.say(TG.owner, group, '/api_create');
    expect(inGroup.text).toContain('Open a private chat with me');
    expect(await c.h.db.db.magicLink.count()).toBe(links);
    const reply = await c.say(TG.owner, ownerChat, '/api_create DEPLOYMENTS_READ LOGS_READ');
    expect(reply.text).toMatch(/auth\/verify\?token=[A-Za-z0-9_-]{32}/);
    expect(reply.text).toContain('DEPLOYMENTS_READ LOGS_READ');
    expect(reply.disable_preview).toBe(true);
    const adminScope = await c.say(TG.owner, ownerChat, '/api_create ADMIN');
    expect(adminScope.text).toContain('Only admins may grant the ADMIN scope');
  });

  it('/keys lists and /revoke revokes your keys', async () => {
    const spare = await testAccessUseCases(c.h.db.db).issueKey({ userId: c.h.owner.user.id, scopes: ['LOGS_READ'] });
    const keys = await c.say(TG.owner, ownerChat, '/keys');
    expect(keys.text).toContain(spare.keyId);
    expect(keys.text).toContain(c.h.owner.keyId);
    const revoked = await c.say(TG.owner, ownerChat, `/revoke ${spare.keyId}`);
    expect(revoked.text).toContain(`Revoked key <code>${spare.keyId}</code>`);
    expect((await c.h.db.db.apiKey.findUnique({ where: { keyId: spare.keyId } }))?.revokedAt).not.toBeNull();
    const missing = await c.say(TG.owner, ownerChat, '/revoke');
    expect(missing.text).toContain('Missing keyId');
  });

  it('/deploy answers at once with the jobId; /status shows the transitions; progress arrives in the chat', async () => {
    const reply = await c.say(TG.owner, ownerChat, '/deploy tgshop local/busybox:1 name=chatweb env=GREETING="hi there"', (m) => m.text.includes('Deploying <code>'));
    const jobId = /job <code>([0-9a-z]{16})<\/code>/.exec(reply.text)?.[1];
    expect(jobId).toBeDefined();
    const done = await c.h.waitForJob(jobId!);
    const status = await c.say(TG.owner, ownerChat, `/status ${jobId}`, (m) => m.text.includes('<pre>'));
    expect(status.text).toContain(`<b>${done.status}</b>`);
    expect(status.text).toContain('PENDING');
    const final = await c.telegram.waitFor(() => c.telegram.messagesIn(TG.owner).find((m) => m.text.includes(jobId!) && /<b>(RUNNING|FAILED)<\/b>/.test(m.text)), 20_000);
    expect(final.text).toContain('tgshop');
    const bad = await c.say(TG.owner, ownerChat, '/deploy tgshop nginx;rm port=99999:80');
    expect(bad.text).toContain('⚠️');
    const unbalanced = await c.say(TG.owner, ownerChat, '/deploy tgshop local/busybox:1 env=A="open');
    expect(unbalanced.text).toContain('has no closing');
    const unknownEnv = await c.say(TG.owner, ownerChat, '/deploy nosuchenv local/busybox:1');
    expect(unknownEnv.text).toContain('Environment not found');
  });

  it('/logs and /rollback reach the deployment use cases; /notify toggles this chat', async () => {
    const missing = await c.say(TG.owner, ownerChat, '/logs nosuchjob00000000');
    expect(missing.text).toContain('Deployment not found');
    const rollback = await c.say(TG.owner, ownerChat, '/rollback nosuchjob00000000');
    expect(rollback.text).toContain('Deployment not found');
    const off = await c.say(TG.owner, ownerChat, '/notify off');
    expect(off.text).toContain('off for this chat');
    const target = () => c.h.db.db.chatTarget.findFirst({ where: { userId: c.h.owner.user.id, platform: 'TELEGRAM', chatId: String(TG.owner) } });
    expect((await target())?.enabled).toBe(false);
    await c.say(TG.owner, ownerChat, '/notify on');
    expect((await target())?.enabled).toBe(true);
  });

  it('admins allow users from chat; others may not', async () => {
    const denied = await c.say(TG.owner, ownerChat, `/allow ${TG.other}`);
    expect(denied.text).toContain('Only admins may allow users');
    const refused = await c.say(TG.other, tgPrivate(TG.other), '/start');
    expect(refused.text).toBe('Sorry, you are not allowed to use this bot.');
    const allowed = await c.say(TG.admin, tgPrivate(TG.admin), `/allow ${TG.other}`);
    expect(allowed.text).toContain('may use Runway now');
    const welcome = await c.say(TG.other, tgPrivate(TG.other), '/start');
    expect(welcome.text).toContain('You are Runway user');
  });

  it('waits out a 429 on its reply and still answers', async () => {
    c.telegram.rateLimit({ method: 'sendMessage', chatId: TG.owner, times: 1, retryAfter: 1 });
    const started = Date.now();
    const reply = await c.say(TG.owner, ownerChat, '/envs');
    expect(reply.text).toContain('tgshop');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('reconnects by itself after a Telegram outage', async () => {
    await c.telegram.goDown();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const health = await fetch(`${c.h.url}/health`);
    expect(health.status).toBeLessThan(600);
    await c.telegram.start();
    const reply = await c.say(TG.owner, ownerChat, '/envs');
    expect(reply.text).toContain('tgshop');
  });
});
