#!/usr/bin/env node
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { ADMIN_USAGE, isAdminCommand, runAdminCommand } from './cli/admin-cli.js';
import { applyMigrations } from './db/migrator.js';
import { ACCESS_USAGE, runAccessCommand } from './cli/access-commands.js';
import { createLogger } from './logging/logger.js';
import { startRuntime, type Role } from './runtime.js';
import { PROJECT_ROOT } from './version.js';

const USAGE = `usage: runway <command>
  all       API, workers, bots and scheduler in one process (default)
  api       the REST API only
  worker    queue workers, bots and scheduler only
  migrate   apply database migrations and exit
${ACCESS_USAGE}
${ADMIN_USAGE}`;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      // One clear line per problem, no stack trace (issue 2).
      for (const problem of error.problems) process.stderr.write(`config error: ${problem}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function serve(role: Role): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, base: { role } });
  await applyMigrations(config.DATABASE_URL, join(PROJECT_ROOT, 'prisma/migrations'), logger);
  const runtime = await startRuntime(config, logger, role);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    runtime.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command = 'all'] = argv;
  if (isAdminCommand(command)) {
    process.exitCode = await runAdminCommand(command, argv.slice(1));
    return;
  }
  switch (command) {
    case 'all':
    case 'api':
    case 'worker':
      return serve(command);
    case 'migrate': {
      const config = readConfig();
      const logger = createLogger({ level: config.LOG_LEVEL });
      const result = await applyMigrations(config.DATABASE_URL, join(PROJECT_ROOT, 'prisma/migrations'), logger);
      process.stdout.write(`migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied\n`);
      return;
    }
    case 'magic-link':
    case 'keys': {
      const config = readConfig();
      const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, base: { cli: command } });
      // A fresh install is bootstrapped with `runway magic-link`: make sure the tables exist.
      await applyMigrations(config.DATABASE_URL, join(PROJECT_ROOT, 'prisma/migrations'), logger);
      const io = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };
      process.exitCode = await runAccessCommand(command, argv.slice(1), config, logger, io);
      return;
    }
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      process.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`runway: ${error.message}\n`);
  process.exit(1);
});
