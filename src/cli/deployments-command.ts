import type { Database } from '../db/prisma.js';
import { DeploymentStatus } from '../generated/prisma/enums.js';
import type { Prisma } from '../generated/prisma/client.js';
import { formatTable, parseCommandLine, UsageError, type CliIo } from './cli-context.js';

export const DEPLOYMENTS_USAGE = `usage: runway deployments list [--user USER] [--env ENV] [--state STATE] [--limit N] [--json]
  USER: a user id, telegram:ID or discord:ID      ENV: an environment id or name`;

/** Resolves `--user` to a filter: a user id, or `telegram:<id>` / `discord:<id>`. */
function userFilter(value: string): Prisma.DeploymentWhereInput {
  const [kind, id] = value.split(':', 2);
  if (kind === 'telegram' && id) return { user: { telegramId: id } };
  if (kind === 'discord' && id) return { user: { discordId: id } };
  return { userId: value };
}

function duration(from: Date, to: Date | null): string {
  if (!to) return '-';
  const seconds = (to.getTime() - from.getTime()) / 1000;
  return seconds < 120 ? `${seconds.toFixed(1)}s` : `${Math.round(seconds / 60)}m`;
}

/** `runway deployments list`: the newest deployments across users, for operators. */
export async function runDeploymentsCommand(args: string[], deps: { db: Database; io: CliIo }): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    user: { type: 'string' },
    env: { type: 'string' },
    state: { type: 'string' },
    limit: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  });
  if (positionals[0] !== 'list' || positionals.length > 1) throw new UsageError(`unknown deployments command: ${positionals.join(' ') || '(none)'}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1-1000');
  const state = values.state?.toUpperCase();
  if (state && !(state in DeploymentStatus)) throw new UsageError(`--state must be one of ${Object.keys(DeploymentStatus).join(', ')}`);

  const where: Prisma.DeploymentWhereInput = {
    AND: [
      values.user ? userFilter(values.user) : {},
      values.env ? { OR: [{ environmentId: values.env }, { environment: { name: values.env } }] } : {},
      state ? { status: state as DeploymentStatus } : {},
    ],
  };
  const deployments = await deps.db.deployment.findMany({
    where,
    orderBy: { createdAt: 'desc' },
    take: limit,
    include: { environment: { select: { name: true } }, service: { select: { name: true } } },
  });

  if (values.json) {
    for (const d of deployments) {
      deps.io.out(JSON.stringify({
        id: d.id, jobId: d.jobId, status: d.status, userId: d.userId, environment: d.environment.name, service: d.service.name,
        source: d.source, image: d.builtImage ?? (d.image ? `${d.image}:${d.tag ?? 'latest'}` : null), repoUrl: d.repoUrl,
        createdAt: d.createdAt, finishedAt: d.finishedAt, errorMessage: d.errorMessage,
      }));
    }
    return 0;
  }
  const rows = deployments.map((d) => [
    d.jobId,
    d.status,
    d.environment.name,
    d.service.name,
    d.source === 'GIT' ? `${d.repoUrl ?? ''}@${d.commitSha ?? d.branch ?? ''}` : `${d.image ?? ''}:${d.tag ?? 'latest'}`,
    d.userId,
    d.createdAt.toISOString(),
    duration(d.createdAt, d.finishedAt),
    d.errorMessage ? d.errorMessage.slice(0, 60) : '',
  ]);
  for (const line of formatTable(['JOB', 'STATE', 'ENV', 'SERVICE', 'SOURCE', 'USER', 'CREATED', 'TOOK', 'ERROR'], rows)) deps.io.out(line);
  if (deployments.length === 0) deps.io.err('no deployments match');
  return 0;
}
