import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwner, FixtureDeployment } from './notify-fixtures.js';
import { NotifyHarness } from './notify-harness.js';

const tgChat = () => 100_000 + Math.floor(Math.random() * 900_000);
const dcChannel = () => String(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)));

describe('deploy-status notifier', () => {
  const h = new NotifyHarness();
  beforeAll(async () => {
    await h.start();
    await h.startNotifier();
  });
  afterAll(() => h.stop());

  async function ownerWith(telegramChat: number, discordChannel: string) {
    const { user, env } = await createOwner(h.testDb.db, [
      { platform: 'TELEGRAM', chatId: String(telegramChat) },
      { platform: 'DISCORD', chatId: discordChannel },
    ]);
    return { userId: user.id, envId: env.id, envName: env.name };
  }

  it('edits one progress message in place and sends a final RUNNING message, on Telegram and Discord', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    const deployment = await FixtureDeployment.create(h.testDb.db, h.stream, await ownerWith(chat, channel));
    await h.telegram.waitFor(() => h.telegram.messagesIn(chat)[0]);
    for (const state of ['PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS'] as const) {
      await deployment.to(state);
      await h.telegram.waitFor(() => h.telegram.messagesIn(chat)[0]?.text.includes(state));
    }
    await deployment.to('RUNNING');
    const [progress, final] = await h.telegram.waitFor(() => {
      const messages = h.telegram.messagesIn(chat);
      return messages.length === 2 && messages;
    });
    expect(progress!.history.length).toBeGreaterThan(1);
    expect(progress!.text).toMatch(/✓ PENDING \d+\.\ds · ✓ PULLING_IMAGE \d+\.\ds · ✓ CREATING_VOLUMES \d+\.\ds · ✓ STARTING_CONTAINERS \d+\.\ds · ■ RUNNING/);
    expect(progress!.parse_mode).toBe('HTML');
    expect(final!.text).toContain('<b>RUNNING</b>');
    expect(final!.text).toContain(deployment.jobId);
    expect(final!.text).toContain(deployment.owner.envName);
    expect(final!.text).toContain('local/busybox:1');
    expect(final!.text).toMatch(/took \d+\.\ds/);
    expect(final!.disable_preview).toBe(true);

    const [dProgress, dFinal] = await h.discord.waitFor(() => {
      const messages = h.discord.messagesIn(channel);
      return messages.length === 2 && messages;
    });
    expect(dProgress!.content).toContain('■ RUNNING');
    expect(dFinal!.content).toContain('**RUNNING**');
    expect(dFinal!.content).toContain(deployment.jobId);
    // Exactly one message per deployment per chat besides the final one.
    expect(h.telegram.callsOf('sendMessage', chat)).toHaveLength(2);
  });

  it('names the reason and the last log lines of a FAILED deployment, escaped for each parse mode', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    const deployment = await FixtureDeployment.create(h.testDb.db, h.stream, await ownerWith(chat, channel));
    const log = Array.from({ length: 400 }, (_, i) => `step ${i} <tag> & **bold** ${'x'.repeat(30)}`).join('\n');
    await deployment.to('PULLING_IMAGE');
    await deployment.to('FAILED', 'image <evil> & "gone"', { buildLog: log });
    const final = await h.telegram.waitFor(() => h.telegram.messagesIn(chat).find((m) => m.text.includes('<b>FAILED</b>')));
    expect(final.text).toContain('image &lt;evil&gt; &amp; &quot;gone&quot;');
    expect(final.text).toContain('step 399 &lt;tag&gt;');
    expect(final.text).not.toContain('step 0 ');
    const dFinal = await h.discord.waitFor(() => h.discord.messagesIn(channel).find((m) => m.content.includes('**FAILED**')));
    expect(dFinal.content.length).toBeLessThanOrEqual(2000);
    expect(dFinal.content).toContain('image <evil> & "gone"');
    expect(dFinal.content).toContain('step 399');
  });

  it('waits out 429 retry_after answers and retries', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    h.telegram.rateLimit({ method: 'sendMessage', chatId: chat, times: 1, retryAfter: 1 });
    h.discord.rateLimit({ method: 'POST', pathIncludes: `/channels/${channel}/messages`, times: 1, retryAfter: 1 });
    const deployment = await FixtureDeployment.create(h.testDb.db, h.stream, await ownerWith(chat, channel));
    const started = Date.now();
    await h.telegram.waitFor(() => h.telegram.messagesIn(chat)[0]);
    const limited = h.telegram.calls.find((call) => call.status === 429 && Number(call.params.chat_id) === chat);
    const retried = h.telegram.callsOf('sendMessage', chat).find((call) => call.status === 200);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
    await h.discord.waitFor(() => h.discord.messagesIn(channel)[0]);
    const dLimited = h.discord.calls.find((call) => call.status === 429 && call.path.includes(channel));
    const dRetried = h.discord.calls.find((call) => call.status === 200 && call.path.includes(channel));
    expect(dRetried!.at - dLimited!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(10_000);
    await deployment.to('RUNNING');
    await h.telegram.waitFor(() => h.telegram.messagesIn(chat).length === 2);
  });

  it('loses no final message when Telegram and Discord are down during a deployment', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    const deployment = await FixtureDeployment.create(h.testDb.db, h.stream, await ownerWith(chat, channel));
    await h.telegram.waitFor(() => h.telegram.messagesIn(chat)[0]);
    await h.discord.waitFor(() => h.discord.messagesIn(channel)[0]);
    await h.telegram.goDown();
    await h.discord.goDown();
    await deployment.to('PULLING_IMAGE');
    await deployment.to('RUNNING');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await h.telegram.start();
    await h.discord.start();
    const final = await h.telegram.waitFor(() => h.telegram.messagesIn(chat).find((m) => m.text.includes('<b>RUNNING</b>')), 20_000);
    expect(final.text).toContain(deployment.jobId);
    await h.discord.waitFor(() => h.discord.messagesIn(channel).find((m) => m.content.includes('**RUNNING**')), 20_000);
    expect(h.telegram.messagesIn(chat)).toHaveLength(2);
  });

  it('keeps Telegram up to date while Discord is unreachable', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    const deployment = await FixtureDeployment.create(h.testDb.db, h.stream, await ownerWith(chat, channel));
    await h.discord.waitFor(() => h.discord.messagesIn(channel)[0]);
    await h.discord.goDown();
    try {
      await deployment.to('PULLING_IMAGE');
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const started = Date.now();
      await deployment.to('RUNNING');
      await h.telegram.waitFor(() => h.telegram.messagesIn(chat).find((m) => m.text.includes('<b>RUNNING</b>')), 5_000);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await h.discord.start();
    }
    await h.discord.waitFor(() => h.discord.messagesIn(channel).find((m) => m.content.includes('**RUNNING**')), 20_000);
  });

  it('delivers what was published while the notifier was stopped (consumer group), and skips chats with notifications off', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    const owner = await ownerWith(chat, channel);
    await h.testDb.db.chatTarget.updateMany({ where: { userId: owner.userId, platform: 'DISCORD' }, data: { enabled: false } });
    await h.notifier!.stop();
    const deployment = await FixtureDeployment.create(h.testDb.db, h.stream, owner);
    await deployment.to('RUNNING');
    await h.startNotifier();
    await h.telegram.waitFor(() => h.telegram.messagesIn(chat).find((m) => m.text.includes('<b>RUNNING</b>')));
    expect(h.discord.messagesIn(channel)).toHaveLength(0);
  });

  it('sends domain and certificate events once per chat through the same path', async () => {
    const [chat, channel] = [tgChat(), dcChannel()];
    const owner = await ownerWith(chat, channel);
    const event = {
      type: 'domain.failed' as const, domainId: 'd1', hostname: 'app.example.test', ownerId: owner.userId, environmentId: owner.envId,
      at: new Date().toISOString(), reason: 'HTTP-01 challenge <failed> & gave up',
    };
    await h.stream.publish(event);
    const message = await h.telegram.waitFor(() => h.telegram.messagesIn(chat)[0]);
    expect(message.text).toContain('Domain failed');
    expect(message.text).toContain('<code>https://app.example.test</code>');
    expect(message.text).toContain('challenge &lt;failed&gt; &amp; gave up');
    await h.discord.waitFor(() => h.discord.messagesIn(channel)[0]);
    await h.stream.publish({ ...event, type: 'certificate.expiring', expiresAt: '2027-01-02T00:00:00.000Z', reason: undefined });
    const expiring = await h.telegram.waitFor(() => h.telegram.messagesIn(chat)[1]);
    expect(expiring.text).toContain('expires <b>2027-01-02</b>');
    await h.discord.waitFor(() => h.discord.messagesIn(channel).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.telegram.messagesIn(chat)).toHaveLength(2);
  });
});
