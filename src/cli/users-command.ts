import type { Database } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';
import { allowUser } from '../core/users/allow-user.js';
import { formatTable, parseCommandLine, UsageError, type CliIo } from './cli-context.js';

export const USERS_USAGE = `usage: runway users allow (--telegram-id ID | --discord-id ID) [--admin]
       runway users list`;

/** `runway users allow|list`: lets chat users in without a bot, e.g. the first admin of a fresh install. */
export async function runUsersCommand(args: string[], deps: { db: Database; logger: Logger; io: CliIo }): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    'telegram-id': { type: 'string' },
    'discord-id': { type: 'string' },
    admin: { type: 'boolean', default: false },
  });
  const [action] = positionals;
  if (action === 'list') return listUsers(deps);
  if (action !== 'allow' || positionals.length > 1) throw new UsageError(`unknown users command: ${positionals.join(' ') || '(none)'}`);
  if (!values['telegram-id'] && !values['discord-id']) throw new UsageError('give --telegram-id or --discord-id');
  const user = await allowUser(deps, {
    telegramId: values['telegram-id'],
    discordId: values['discord-id'],
    admin: values.admin,
  });
  const ids = [user.telegramId && `telegram ${user.telegramId}`, user.discordId && `discord ${user.discordId}`].filter(Boolean).join(', ');
  deps.io.out(`${user.created ? 'created and allowed' : 'allowed'} user ${user.id} (${ids}) as ${user.role}`);
  return 0;
}

async function listUsers(deps: { db: Database; io: CliIo }): Promise<number> {
  const users = await deps.db.user.findMany({ orderBy: { createdAt: 'asc' } });
  const rows = users.map((user) => [
    user.id,
    user.telegramId ?? '-',
    user.discordId ?? '-',
    user.role,
    user.allowed ? 'yes' : 'no',
    user.createdAt.toISOString(),
  ]);
  for (const line of formatTable(['ID', 'TELEGRAM', 'DISCORD', 'ROLE', 'ALLOWED', 'CREATED'], rows)) deps.io.out(line);
  return 0;
}
