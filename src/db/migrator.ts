import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logging/logger.js';
import { parseDatabaseUrl } from './database-url.js';

/**
 * Applies `prisma/migrations/<name>/migration.sql` in name order and records
 * each in Prisma's own `_prisma_migrations` ledger (same columns, SHA-256
 * checksum), because `prisma migrate deploy` needs a native schema engine that
 * cannot be downloaded here (ENVIRONMENT.md). Where the engine is available,
 * `prisma migrate deploy` sees these migrations as applied.
 *
 * Several processes may start at once: a PostgreSQL advisory lock (the key
 * Prisma itself uses) lets one migrate while the others wait.
 */
const PRISMA_ADVISORY_LOCK = 72707369;

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string,
  logger?: Logger,
): Promise<MigrationResult> {
  const { connectionString, schema } = parseDatabaseUrl(databaseUrl);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      await client.query(LEDGER_DDL);
      return await applyPending(client, migrationsDir, logger);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(client: pg.Client, migrationsDir: string, logger?: Logger): Promise<MigrationResult> {
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const ledger = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
    'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  const done = new Map(ledger.rows.map((row) => [row.migration_name, row]));
  const result: MigrationResult = { applied: [], alreadyApplied: [] };

  for (const name of names) {
    const sql = await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8');
    const checksum = createHash('sha256').update(sql).digest('hex');
    const previous = done.get(name);
    if (previous?.finished_at) {
      if (previous.checksum !== checksum) {
        logger?.warn({ migration: name }, 'migration file changed after it was applied');
      }
      result.alreadyApplied.push(name);
      continue;
    }
    if (previous) {
      throw new Error(`migration ${name} failed earlier and needs an operator: see _prisma_migrations.logs`);
    }
    await applyOne(client, name, sql, checksum);
    logger?.info({ migration: name }, 'migration applied');
    result.applied.push(name);
  }
  return result;
}

async function applyOne(client: pg.Client, name: string, sql: string, checksum: string): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, checksum, name],
    );
    await client.query(sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
  }
}
