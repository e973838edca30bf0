import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let runway: RunwayInstance;
let reader: UserWithKey;

beforeAll(async () => {
  t = await createTestDatabase('auth');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('auth') });
  reader = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

const keys = (headers: Record<string, string>) => fetch(`${runway.url}/auth/keys`, { headers });

describe('API key authentication', () => {
  it('accepts X-API-Key and Authorization: Bearer and answers with the caller\'s keys', async () => {
    const variants: Record<string, string>[] = [{ 'x-api-key': reader.apiKey }, { authorization: `Bearer ${reader.apiKey}` }];
    for (const headers of variants) {
      const res = await keys(headers);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { keys: Array<{ keyId: string; status: string }> };
      expect(body.keys).toEqual([expect.objectContaining({ keyId: reader.keyId, status: 'active', scopes: ['ENVIRONMENTS_READ'] })]);
      expect(JSON.stringify(body)).not.toContain(reader.apiKey.split('.')[1]);
    }
  });

  it('answers 401 without a key and records the denial in the audit log', async () => {
    const res = await fetch(`${runway.url}/auth/keys`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    await expect.poll(() => t.db.auditLog.count({ where: { action: 'request.denied', outcome: 'denied' } })).toBeGreaterThan(0);
  });

  it('stores only a bcrypt hash (cost 10) of the secret', async () => {
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { keyId: reader.keyId } });
    expect(row.secretHash).toMatch(/^\$2[aby]\$10\$/);
    expect(row.secretHash).not.toContain(reader.apiKey.split('.')[1]);
    expect(reader.apiKey).toMatch(/^rw_prod_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16}$/);
  });
});
