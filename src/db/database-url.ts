/**
 * Splits Prisma's `?schema=` parameter off a PostgreSQL URL: node-postgres
 * does not understand it, and tests give every suite its own schema.
 */
export function parseDatabaseUrl(databaseUrl: string): { connectionString: string; schema: string } {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`DATABASE_URL: schema "${schema}" is not a plain SQL identifier`);
  }
  return { connectionString: url.toString(), schema };
}
