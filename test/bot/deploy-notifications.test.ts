import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpdCommand } from '../deployments/support/deployment-harness.js';
import { checkTelegramHtml } from '../fakes/telegram-html-check.js';
import { DC, startChatHarness, TG, tgPrivate, type ChatHarness } from './support/chat-harness.js';

/** A command that prints many lines (with characters both parse modes must escape), then serves. */
function chattyCommand(lines: number): string[] {
  return ['sh', '-c', `i=0; while [ $i -lt ${lines} ]; do echo "line $i" '<b>&amp; **x** \`\`\`y\`\`\`'; i=$((i+1)); done; mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www`];
}

/**
 * Deployments started over REST reach the owner's Telegram chat and Discord
 * DM through the real engine, event stream and notifier.
 */
describe('deploy-status push, end to end', () => {
  let c: ChatHarness;
  let env: { id: string };

  beforeAll(async () => {
    c = await startChatHarness('bot_push');
    env = await c.h.createEnvironment('pushshop');
    // The owner talks to both bots once, which links both chats.
    await c.say(TG.owner, tgPrivate(TG.owner), '/start');
    await c.slash(DC.owner, 'start');
  });
  afterAll(() => c?.stop());

  it('a REST deployment produces one edited progress message and a final message in Telegram and Discord', async () => {
    const response = await c.h.deployImage({ environmentId: env.id, name: 'web', command: httpdCommand('v1') });
    expect(response.status).toBe(202);
    const { jobId } = response.body as { jobId: string };
    const done = await c.h.waitForJob(jobId);
    expect(done.status).toBe('RUNNING');

    const tgMessages = () => c.telegram.messagesIn(TG.owner).filter((m) => m.history[0]!.includes(jobId));
    const [progress, final] = await c.telegram.waitFor(() => tgMessages().length === 2 && tgMessages(), 20_000);
    await c.telegram.waitFor(() => progress!.text.includes('■ RUNNING'), 10_000);
    expect(progress!.text).toMatch(/✓ PENDING [\d.]+s · ✓ PULLING_IMAGE [\d.]+s · ✓ CREATING_VOLUMES [\d.]+s · ✓ STARTING_CONTAINERS [\d.]+s · ■ RUNNING/);
    expect(progress!.history.length).toBeGreaterThanOrEqual(2);
    expect(final!.text).toContain('<b>RUNNING</b>: <b>web</b> in <b>pushshop</b>');
    expect(final!.text).toContain('<code>local/busybox:1</code>');
    expect(final!.text).toMatch(/took \d+\.\ds/);

    const dcMessages = () => c.discord.messagesIn(c.dmChannel).filter((m) => m.history[0]!.includes(jobId));
    const [dProgress, dFinal] = await c.discord.waitFor(() => dcMessages().length === 2 && dcMessages(), 20_000);
    await c.discord.waitFor(() => dProgress!.content.includes('■ RUNNING'), 10_000);
    expect(dFinal!.content).toContain('**RUNNING**: **web** in **pushshop**');
  });

  it('a deployment whose command crashes ends with a FAILED message naming the reason and its last log lines', async () => {
    const marker = `kaboom-${Date.now().toString(36)}: cannot open /etc/app.conf`;
    const response = await c.h.deployImage({
      environmentId: env.id, name: 'crasher', envVars: { API_TOKEN: 'tok-very-secret-42' },
      command: ['sh', '-c', `echo "token=$API_TOKEN"; echo "${marker}"; exit 1`],
    });
    expect(response.status).toBe(202);
    const { jobId } = response.body as { jobId: string };
    const done = await c.h.waitForJob(jobId);
    expect(done.status).toBe('FAILED');
    expect(done.logTail).toContain(marker);

    // The service is gone by now: the lines can only come from what was kept when it failed.
    const final = await c.telegram.waitFor(
      () => c.telegram.messagesIn(TG.owner).find((m) => m.text.includes(jobId) && m.text.includes('<b>FAILED</b>')),
      20_000,
    );
    expect(final.text).toContain('<b>crasher</b> in <b>pushshop</b>');
    expect(final.text).toMatch(/<b>Reason: <\/b>.*(exit|exited)/);
    expect(final.text).toContain('Last log lines:');
    expect(final.text).toContain(marker);
    expect(final.text).toContain('token=[redacted]');
    expect(final.text).not.toContain('tok-very-secret-42');
    const dFinal = await c.discord.waitFor(
      () => c.discord.messagesIn(c.dmChannel).find((m) => m.content.includes(jobId) && m.content.includes('**FAILED**')),
      20_000,
    );
    expect(dFinal.content).toContain(marker);
    expect(dFinal.content).not.toContain('tok-very-secret-42');
  });

  it('/logs keeps the newest lines within each platform limit, escaped for its parse mode', async () => {
    const response = await c.h.deployImage({ environmentId: env.id, name: 'chatty', command: chattyCommand(400) });
    const { jobId } = response.body as { jobId: string };
    expect((await c.h.waitForJob(jobId)).status).toBe('RUNNING');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const tg = await c.say(TG.owner, tgPrivate(TG.owner), `/logs ${jobId} 400`, (m) => m.text.includes('<pre>'));
    expect(checkTelegramHtml(tg.text).length).toBeLessThanOrEqual(4096);
    expect(tg.text).toContain('line 399 &lt;b&gt;&amp;amp;');
    expect(tg.text).not.toContain('line 0 ');
    expect(tg.text).toContain('earlier lines not shown');
    const dc = await c.slash(DC.owner, 'logs', { id: jobId, lines: 400 });
    expect(dc.text.length).toBeLessThanOrEqual(2000);
    expect(dc.text).toContain('line 399 <b>&amp; **x** ');
    // Backtick fences inside the logs cannot close the code block early.
    expect(dc.text.match(/```/g)).toHaveLength(2);
    expect(dc.text).not.toContain('line 0 ');
    const status = await c.say(TG.owner, tgPrivate(TG.owner), `/status ${jobId}`, (m) => m.text.includes('<pre>'));
    expect(status.text).toContain('STARTING_CONTAINERS');
  });

  it('a Telegram and Discord outage during a deployment loses no final message', async () => {
    await c.telegram.goDown();
    await c.discord.goDown();
    const response = await c.h.deployImage({ environmentId: env.id, name: 'late', command: httpdCommand('v1') });
    const { jobId } = response.body as { jobId: string };
    expect((await c.h.waitForJob(jobId)).status).toBe('RUNNING');
    // The API kept working throughout; the deployment did not depend on the chat platforms.
    expect((await c.h.api('GET', `/deployments/job/${jobId}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await c.telegram.start();
    await c.discord.start();
    const final = await c.telegram.waitFor(
      () => c.telegram.messagesIn(TG.owner).find((m) => m.text.includes(jobId) && m.text.includes('<b>RUNNING</b>')),
      30_000,
    );
    expect(final.text).toContain('<b>late</b>');
    await c.discord.waitFor(() => c.discord.messagesIn(c.dmChannel).find((m) => m.content.includes(jobId) && m.content.includes('**RUNNING**')), 30_000);
    expect(c.telegram.messagesIn(TG.owner).filter((m) => m.history[0]!.includes(jobId))).toHaveLength(2);
  });
});
