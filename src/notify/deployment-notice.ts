import type { DeploymentStatus } from '../generated/prisma/enums.js';
import { bold, code, line, message, pre, type Block, type ChatMessage } from '../bot/chat-text.js';

/** What a deployment's chat messages say; loaded by DeploymentViewSource. */
export interface DeploymentView {
  id: string;
  jobId: string;
  userId: string;
  environmentName: string;
  serviceName: string;
  /** image:tag, or repo@commit for Git deployments. */
  source: string;
  isGit: boolean;
  status: DeploymentStatus;
  createdAt: Date;
  finishedAt: Date | null;
  errorMessage: string | null;
  transitions: { state: DeploymentStatus; at: Date; reason: string | null }[];
  /** Newest log lines, for FAILED. */
  logTail: string[];
}

export const FINAL_STATES: ReadonlySet<DeploymentStatus> = new Set(['RUNNING', 'FAILED']);
const ENDED_STATES: ReadonlySet<DeploymentStatus> = new Set(['RUNNING', 'FAILED', 'STOPPED', 'SUPERSEDED']);

const HEADLINE: Record<DeploymentStatus, string> = {
  PENDING: '⏳ Deploying',
  BUILDING: '🔨 Building',
  PULLING_IMAGE: '⏳ Deploying',
  CREATING_VOLUMES: '⏳ Deploying',
  STARTING_CONTAINERS: '🚀 Starting',
  RUNNING: '✅ Running',
  FAILED: '❌ Failed',
  STOPPED: '⏹ Stopped',
  SUPERSEDED: '↪️ Superseded',
};

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

/**
 * The progress line: every step with the time it took; the current step
 * marked while the deployment is under way.
 */
export function progressLine(view: DeploymentView): string {
  const steps = view.transitions;
  return steps
    .map((step, index) => {
      const next = steps[index + 1];
      if (next) return `✓ ${step.state} ${formatDuration(next.at.getTime() - step.at.getTime())}`;
      return ENDED_STATES.has(step.state) ? `■ ${step.state}` : `▶ ${step.state}…`;
    })
    .join(' · ');
}

function sourceLine(view: DeploymentView): Block {
  return line(view.isGit ? 'commit ' : 'image ', code(view.source), ' · job ', code(view.jobId));
}

/** The one message per deployment and chat, edited as the state changes. */
export function progressNotice(view: DeploymentView): ChatMessage {
  return message(
    line(`${HEADLINE[view.status]} `, bold(view.serviceName), ' in ', bold(view.environmentName)),
    sourceLine(view),
    line(progressLine(view)),
  );
}

/** The RUNNING or FAILED message sent once at the end (a new message, so people get notified). */
export function finalNotice(view: DeploymentView): ChatMessage {
  const end = view.finishedAt ?? view.transitions.at(-1)?.at ?? new Date();
  const took = formatDuration(end.getTime() - view.createdAt.getTime());
  const blocks: Block[] = [
    line(view.status === 'RUNNING' ? '✅ ' : '❌ ', bold(view.status), ': ', bold(view.serviceName), ' in ', bold(view.environmentName)),
    sourceLine(view),
    line(`${view.status === 'RUNNING' ? 'took' : 'after'} ${took}`),
  ];
  if (view.status === 'FAILED') {
    const reason = view.errorMessage ?? view.transitions.at(-1)?.reason ?? 'no reason recorded';
    blocks.push(line(bold('Reason: '), reason));
    if (view.logTail.length > 0) blocks.push(line('Last log lines:'), pre(view.logTail));
  }
  return message(...blocks);
}
