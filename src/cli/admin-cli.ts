import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../db/prisma.js';
import { createLogger } from '../logging/logger.js';
import { processIo, reportFailure, type CliIo } from './cli-context.js';
import { DEPLOYMENTS_USAGE, runDeploymentsCommand } from './deployments-command.js';
import { runDoctor } from './doctor-command.js';
import { runUsersCommand, USERS_USAGE } from './users-command.js';

/** The operator commands this module answers (src/main.ts dispatches them here). */
export const ADMIN_COMMANDS = ['users', 'deployments', 'doctor'] as const;
export type AdminCommand = (typeof ADMIN_COMMANDS)[number];

export function isAdminCommand(command: string): command is AdminCommand {
  return (ADMIN_COMMANDS as readonly string[]).includes(command);
}

export const ADMIN_USAGE = `  users allow (--telegram-id ID | --discord-id ID) [--admin]   let a chat user in (creates it)
  users list                                                    every known user
  deployments list [--user U] [--env E] [--state S] [--limit N] [--json]
  doctor    check configuration, database, Redis, Docker and swarm, Nginx, ACME; says what to fix`;

/** Runs one operator command; resolves to the process exit code. */
export async function runAdminCommand(command: AdminCommand, args: string[], io: CliIo = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (command === 'doctor') return runDoctor(io, env);
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`config error: ${problem}`);
    return 2;
  }
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, base: { cli: command } });
  const db = createDatabase(config.DATABASE_URL, { poolSize: 2 });
  const usage = command === 'users' ? USERS_USAGE : DEPLOYMENTS_USAGE;
  try {
    if (command === 'users') return await runUsersCommand(args, { db, logger, io });
    return await runDeploymentsCommand(args, { db, io });
  } catch (error) {
    return reportFailure(io, error, usage);
  } finally {
    await db.$disconnect();
  }
}
