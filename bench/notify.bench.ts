/**
 * Issue 6: latency from a deployment state change (the event's time) to the
 * Bot API call that shows it, with 50 deployments' notifications in flight
 * at once, against the fake Telegram and Discord servers. Each deployment
 * has its own owner with one Telegram chat and one Discord channel; states
 * change every 300 ms, as a fast local deploy does. States the notifier
 * coalesced (a newer one arrived first) are counted, not timed.
 */
import { NotifyHarness } from '../test/notify/notify-harness.js';
import { createOwner, FixtureDeployment } from '../test/notify/notify-fixtures.js';
import type { DeploymentStatus } from '../src/generated/prisma/enums.js';
import type { BenchFigure } from './run.js';

const DEPLOYMENTS = 50;
const STEP_MS = 300;
// Discord figures include discord.js' own limits (50 requests/s per bot, per-channel buckets): 50 channels x 6 messages queue behind them.
const STATES: DeploymentStatus[] = ['PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS', 'RUNNING'];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const round = (ms: number) => Math.round(ms * 10) / 10;
/** What the progress line shows once a state is reached. */
const marker = (state: DeploymentStatus) => (state === 'RUNNING' ? '■ RUNNING' : `▶ ${state}…`);

interface Change {
  chat: number;
  channel: string;
  state: DeploymentStatus;
  at: number;
}

export default async function notifyBench(): Promise<BenchFigure[]> {
  const h = new NotifyHarness({ poolSize: 10 });
  await h.start();
  try {
    await h.startNotifier({ blockMs: 1_000 });
    const changes: Change[] = [];
    const deployments: { deployment: FixtureDeployment; chat: number; channel: string }[] = [];
    for (let i = 0; i < DEPLOYMENTS; i += 1) {
      const chat = 5_000_000 + i;
      const channel = String(9_000_000_000_000_000n + BigInt(i));
      const { user, env } = await createOwner(h.testDb.db, [
        { platform: 'TELEGRAM', chatId: String(chat) },
        { platform: 'DISCORD', chatId: channel },
      ]);
      deployments.push({ deployment: await FixtureDeployment.create(h.testDb.db, h.stream, { userId: user.id, envId: env.id, envName: env.name }), chat, channel });
    }
    // The PENDING messages (created with each deployment) are not timed.
    await h.telegram.waitFor(() => deployments.every((d) => h.telegram.messagesIn(d.chat).length > 0), 60_000);
    await h.discord.waitFor(() => deployments.every((d) => h.discord.messagesIn(d.channel).length > 0), 60_000);

    for (const state of STATES) {
      await new Promise((resolve) => setTimeout(resolve, STEP_MS));
      await Promise.all(deployments.map(async ({ deployment, chat, channel }) => {
        const at = await deployment.to(state);
        changes.push({ chat, channel, state, at });
      }));
    }
    const finals = () => deployments.every((d) => h.telegram.messagesIn(d.chat).length === 2 && h.discord.messagesIn(d.channel).length === 2);
    await h.telegram.waitFor(finals, 60_000).catch(() => h.discord.waitFor(finals, 60_000));

    const tg: number[] = [];
    const dc: number[] = [];
    let coalesced = 0;
    for (const change of changes) {
      const tgCall = h.telegram.calls.find(
        (call) => call.status === 200 && Number(call.params.chat_id) === change.chat && String(call.params.text ?? '').includes(marker(change.state)),
      );
      const dcCall = h.discord.calls.find(
        (call) => call.status === 200 && call.path.includes(change.channel) && String(call.body?.content ?? '').includes(marker(change.state)),
      );
      if (tgCall) tg.push(tgCall.at - change.at);
      else coalesced += 1;
      if (dcCall) dc.push(dcCall.at - change.at);
      else coalesced += 1;
    }
    const note = `${DEPLOYMENTS} deployments, a state change every ${STEP_MS} ms each`;
    return [
      { name: 'notify telegram p50', value: round(percentile(tg, 50)), unit: 'ms', note },
      { name: 'notify telegram p95', value: round(percentile(tg, 95)), unit: 'ms', note: 'per-chat pacing of ~1 msg/s (burst 3) included' },
      { name: 'notify discord p50', value: round(percentile(dc, 50)), unit: 'ms', note },
      { name: 'notify discord p95', value: round(percentile(dc, 95)), unit: 'ms', note },
      { name: 'notify state changes coalesced', value: coalesced, unit: 'count', note: `of ${changes.length * 2} (platform x change); a newer state was shown instead` },
    ];
  } finally {
    await h.stop();
  }
}
