import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '../../src/db/migrator.js';
import { createDatabase, type Database } from '../../src/db/prisma.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { TEST_DATABASE_URL } from './services.js';

export interface TestDatabase {
  url: string;
  schema: string;
  db: Database;
  drop(): Promise<void>;
}

/** A fresh, migrated PostgreSQL schema of its own for one test file. */
export async function createTestDatabase(label = 't'): Promise<TestDatabase> {
  const schema = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = `${TEST_DATABASE_URL}?schema=${schema}`;
  await applyMigrations(url, join(PROJECT_ROOT, 'prisma/migrations'));
  const db = createDatabase(url, { poolSize: 4 });
  return {
    url,
    schema,
    db,
    async drop() {
      await db.$disconnect();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** A unique prefix for Redis keys and BullMQ queues of one test file. */
export function uniquePrefix(label = 'test'): string {
  return `rwtest:${label}:${randomBytes(4).toString('hex')}`;
}
