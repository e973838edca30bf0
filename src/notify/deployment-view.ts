import type { Database } from '../db/prisma.js';
import type { ChatPlatform } from '../generated/prisma/enums.js';
import type { DeploymentView } from './deployment-notice.js';

/** A chat the deployment's owner has notifications on for, with this deployment's message there (if any yet). */
export interface DeliveryTarget {
  id: string;
  platform: ChatPlatform;
  chatId: string;
  message: { id: string; messageId: string | null; lastText: string | null; finalSent: boolean } | undefined;
}

/** Newest lines of a deployment's logs, for the FAILED message (the deployments module may supply one). */
export type LogTailSource = (deployment: { id: string; userId: string }, lines: number) => Promise<string[]>;

const LOG_LINES = 15;

/**
 * Reads what a deployment's messages show from the database, the source of
 * truth: coalesced or replayed events always render the latest state.
 */
export async function loadDeploymentView(
  db: Database,
  deploymentId: string,
  logTail?: LogTailSource,
): Promise<{ view: DeploymentView; targets: DeliveryTarget[] } | undefined> {
  // One read for everything a delivery needs: with 50 deployments in flight, queries per event are the latency.
  const row = await db.deployment.findUnique({
    where: { id: deploymentId },
    include: {
      environment: { select: { name: true } },
      service: { select: { name: true } },
      transitions: { orderBy: { at: 'asc' }, select: { toStatus: true, at: true, reason: true } },
      user: { select: { chatTargets: { where: { enabled: true }, select: { id: true, platform: true, chatId: true } } } },
      messages: { select: { id: true, chatTargetId: true, messageId: true, lastText: true, finalSent: true } },
    },
  });
  if (!row) return undefined;
  const targets = row.user.chatTargets.map((target) => ({ ...target, message: row.messages.find((m) => m.chatTargetId === target.id) }));
  const isGit = row.source === 'GIT';
  const source = isGit
    ? `${row.repoUrl ?? '?'}@${row.commitSha?.slice(0, 12) ?? row.branch ?? 'HEAD'}`
    : `${row.image ?? '?'}${row.tag ? `:${row.tag}` : ''}`;
  const transitions = row.transitions.map((t) => ({ state: t.toStatus, at: t.at, reason: t.reason }));
  if (transitions.length === 0 || transitions.at(-1)?.state !== row.status) {
    transitions.push({ state: row.status, at: row.finishedAt ?? row.updatedAt, reason: row.errorMessage });
  }
  const view: DeploymentView = {
    id: row.id,
    jobId: row.jobId,
    userId: row.userId,
    environmentName: row.environment.name,
    serviceName: row.service.name,
    source,
    isGit,
    status: row.status,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    errorMessage: row.errorMessage,
    transitions,
    logTail: row.status === 'FAILED' ? await failureLogTail(row, logTail) : [],
  };
  return { view, targets };
}

async function failureLogTail(row: { id: string; userId: string; buildLog: string | null }, logTail?: LogTailSource): Promise<string[]> {
  if (logTail) {
    const lines = await logTail(row, LOG_LINES).catch(() => []);
    if (lines.length > 0) return lines;
  }
  return (row.buildLog ?? '').split('\n').filter((text) => text.trim() !== '').slice(-LOG_LINES);
}
