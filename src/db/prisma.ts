import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { parseDatabaseUrl } from './database-url.js';

export type Database = InstanceType<typeof PrismaClient>;

/** A Prisma client on the WebAssembly query compiler (no native engine: ENVIRONMENT.md). */
export function createDatabase(databaseUrl: string, options: { poolSize?: number } = {}): Database {
  const { connectionString, schema } = parseDatabaseUrl(databaseUrl);
  const adapter = new PrismaPg(
    { connectionString, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
    { schema },
  );
  return new PrismaClient({ adapter });
}
