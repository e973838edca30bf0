import type { StoredServiceOptions } from '../core/deployments/deployment-request.js';
import { maskValues } from '../core/deployments/failure-log-tail.js';
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

/**
 * The FAILED message's lines: those stored when the deployment failed (its
 * service is usually removed by then), else the live service's (kept on
 * failure, or failed before the capture existed), else the build output.
 */
async function failureLogTail(
  row: { id: string; userId: string; buildLog: string | null; logTail: string | null; spec: unknown },
  logTail?: LogTailSource,
): Promise<string[]> {
  const stored = nonEmptyLines(row.logTail);
  if (stored.length > 0) return stored.slice(-LOG_LINES);
  if (logTail) {
    const lines = await logTail(row, LOG_LINES).catch(() => []);
    // Env var values are secrets, in chats as much as in the stored tail.
    if (lines.length > 0) return maskValues(lines, (row.spec as StoredServiceOptions | null)?.envVars);
  }
  return nonEmptyLines(row.buildLog).slice(-LOG_LINES);
}

function nonEmptyLines(text: string | null): string[] {
  return (text ?? '').split('\n').filter((line) => line.trim() !== '');
}
