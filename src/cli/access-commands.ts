import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisRevocationChannel } from '../api/auth/revocation-channel.js';
import { AccessUseCases } from '../core/access/access-use-cases.js';
import { ALL_SCOPES, OPERATOR } from '../core/access/access-dependencies.js';
import { KEY_ID_PATTERN } from '../core/access/api-key-format.js';
import { ensureChatUser } from '../core/access/ensure-user.js';
import { AuditLog } from '../core/audit-log.js';
import { isAppError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import { createDatabase, type Database } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';

export const ACCESS_USAGE = `  magic-link (--telegram-id ID | --discord-id ID) [--scopes A,B] [--admin]   print a one-time link for a new API key
  keys list (--user USER_ID | --telegram-id ID | --discord-id ID)              a user's keys, never their secrets
  keys revoke KEY_ID                                                          revoke a key at once on every API instance`;

export const ACCESS_COMMANDS = ['magic-link', 'keys'] as const;

/** Where a command writes; tests collect lines, `runway` writes stdout/stderr. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

interface CommandDeps {
  db: Database;
  access: AccessUseCases;
  io: CommandIo;
}

class CommandLineError extends Error {}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'telegram-id': { type: 'string' },
        'discord-id': { type: 'string' },
        user: { type: 'string' },
        scopes: { type: 'string' },
        admin: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new CommandLineError((error as Error).message);
  }
}

/** `runway magic-link ...`: bootstraps a fresh install without a bot (creates the user if needed). */
async function magicLink(args: string[], deps: CommandDeps): Promise<number> {
  const { values, positionals } = parse(args);
  if (positionals.length > 0) throw new CommandLineError(`unexpected argument: ${positionals[0]}`);
  if (!values['telegram-id'] === !values['discord-id']) throw new CommandLineError('give exactly one of --telegram-id or --discord-id');
  const requested = values.scopes?.split(',').map((scope) => scope.trim().toUpperCase()).filter(Boolean);
  const scopes = requested ?? (values.admin ? ALL_SCOPES : undefined);
  const unknown = scopes?.filter((scope) => !(ALL_SCOPES as string[]).includes(scope)) ?? [];
  // Checked before the user is created, so a typo changes nothing.
  if (unknown.length > 0) throw new CommandLineError(`unknown scope ${unknown.join(',')}; scopes: ${ALL_SCOPES.join(',')}`);
  const user = await ensureChatUser(deps.db, { telegramId: values['telegram-id'], discordId: values['discord-id'] }, { role: values.admin ? 'ADMIN' : undefined });
  const link = await deps.access.createMagicLink(OPERATOR, { userId: user.id, scopes });
  deps.io.err(`link for user ${user.id} (${user.role}), scopes ${link.scopes.join(',')}, valid until ${link.expiresAt.toISOString()}, usable once:`);
  deps.io.out(link.url);
  return 0;
}

async function resolveUserId(values: ReturnType<typeof parse>['values'], db: Database): Promise<string> {
  if (values.user) return values.user;
  const where = values['telegram-id'] ? { telegramId: values['telegram-id'] } : values['discord-id'] ? { discordId: values['discord-id'] } : undefined;
  if (!where) throw new CommandLineError('give --user, --telegram-id or --discord-id');
  const user = await db.user.findUnique({ where });
  if (!user) throw new CommandLineError('no such user');
  return user.id;
}

/** `runway keys list|revoke`. */
async function keys(args: string[], deps: CommandDeps): Promise<number> {
  if (args[0] === 'revoke') {
    // Taken verbatim, not through parseArgs: nanoid key ids may begin with '-'.
    const keyId = args[1] === '--' ? args[2] : args[1];
    const extra = args.length - (args[1] === '--' ? 3 : 2);
    if (!keyId || !KEY_ID_PATTERN.test(keyId) || extra > 0) throw new CommandLineError('give one 16-character key id');
    const revoked = await deps.access.revokeKey(OPERATOR, keyId);
    deps.io.out(`revoked ${revoked.keyId} at ${revoked.revokedAt?.toISOString()}`);
    return 0;
  }
  const { values, positionals } = parse(args);
  const [action] = positionals;
  if (action !== 'list' || positionals.length > 1) throw new CommandLineError(`unknown keys command: ${positionals.join(' ') || '(none)'}`);
  const list = await deps.access.listKeys(OPERATOR, { userId: await resolveUserId(values, deps.db) });
  const rows = list.map((key) => [key.keyId, key.status, key.scopes.join(','), key.createdAt.toISOString(), key.expiresAt?.toISOString() ?? '-', key.lastUsedAt?.toISOString() ?? '-']);
  const headers = ['KEY ID', 'STATUS', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED'];
  const widths = headers.map((header, index) => Math.max(header.length, ...rows.map((row) => (row[index] ?? '').length)));
  for (const row of [headers, ...rows]) deps.io.out(row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd());
  return 0;
}

/**
 * Runs `runway magic-link` or `runway keys ...` with its own database and
 * Redis clients (Redis carries the revocation to running API instances).
 * Resolves to the exit code: 0 done, 1 refused, 2 bad command line.
 */
export async function runAccessCommand(command: string, args: string[], config: Config, logger: Logger, io: CommandIo): Promise<number> {
  const db = createDatabase(config.DATABASE_URL, { poolSize: 2 });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: (attempt) => (attempt > 3 ? null : 200) });
  redis.on('error', () => undefined);
  const revocations = new RedisRevocationChannel(redis, config.REDIS_PREFIX, logger);
  const access = new AccessUseCases({
    db,
    audit: new AuditLog(db, logger),
    keyEnv: config.API_KEY_ENV,
    publicUrl: config.PUBLIC_URL,
    magicLinkTtlMs: config.MAGIC_LINK_TTL,
    keyTtlMs: config.API_KEY_TTL,
    revocations,
  });
  try {
    return await (command === 'magic-link' ? magicLink : keys)(args, { db, access, io });
  } catch (error) {
    if (error instanceof CommandLineError) {
      io.err(`error: ${error.message}\nusage:\n${ACCESS_USAGE}`);
      return 2;
    }
    io.err(`error: ${(error as Error).message}`);
    if (isAppError(error)) for (const hint of error.suggestions) io.err(`  hint: ${hint}`);
    return 1;
  } finally {
    await db.$disconnect();
    redis.disconnect();
  }
}
