import type { Database } from '../db/prisma.js';
import type { DeploymentView } from './deployment-notice.js';

/** Newest lines of a deployment's logs, for the FAILED message (the deployments module may supply one). */
export type LogTailSource = (deployment: { id: string; userId: string }, lines: number) => Promise<string[]>;

const LOG_LINES = 15;

/**
 * Reads what a deployment's messages show from the database, the source of
 * truth: coalesced or replayed events always render the latest state.
 */
export async function loadDeploymentView(db: Database, deploymentId: string, logTail?: LogTailSource): Promise<DeploymentView | undefined> {
  const row = await db.deployment.findUnique({
    where: { id: deploymentId },
    include: {
      environment: { select: { name: true } },
      service: { select: { name: true } },
      transitions: { orderBy: { at: 'asc' }, select: { toStatus: true, at: true, reason: true } },
    },
  });
  if (!row) return undefined;
  const isGit = row.source === 'GIT';
  const source = isGit
    ? `${row.repoUrl ?? '?'}@${row.commitSha?.slice(0, 12) ?? row.branch ?? 'HEAD'}`
    : `${row.image ?? '?'}${row.tag ? `:${row.tag}` : ''}`;
  const transitions = row.transitions.map((t) => ({ state: t.toStatus, at: t.at, reason: t.reason }));
  if (transitions.length === 0 || transitions.at(-1)?.state !== row.status) {
    transitions.push({ state: row.status, at: row.finishedAt ?? row.updatedAt, reason: row.errorMessage });
  }
  return {
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
}

async function failureLogTail(row: { id: string; userId: string; buildLog: string | null }, logTail?: LogTailSource): Promise<string[]> {
  if (logTail) {
    const lines = await logTail(row, LOG_LINES).catch(() => []);
    if (lines.length > 0) return lines;
  }
  return (row.buildLog ?? '').split('\n').filter((text) => text.trim() !== '').slice(-LOG_LINES);
}
