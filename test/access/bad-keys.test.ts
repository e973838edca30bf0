import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyForUser, createUserWithKey, testAccessUseCases, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let runway: RunwayInstance;
let owner: UserWithKey;
let revoked: string;
let expired: string;
let otherEnv: string;

beforeAll(async () => {
  t = await createTestDatabase('badkeys');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('badkeys'), AUTH_FAIL_LIMIT: '100000' });
  owner = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
  revoked = (await createKeyForUser(t.db, owner.user.id, { scopes: ['ENVIRONMENTS_READ'] })).apiKey;
  await testAccessUseCases(t.db).revokeKey({ userId: owner.user.id, role: 'USER', scopes: [] }, revoked.slice(8, 24));
  expired = (await createKeyForUser(t.db, owner.user.id, { scopes: ['ENVIRONMENTS_READ'], expiresAt: new Date(Date.now() - 1000) })).apiKey;
  otherEnv = (await createKeyForUser(t.db, owner.user.id, { scopes: ['ENVIRONMENTS_READ'], keyEnv: 'dev' })).apiKey;
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

async function answer(headers: Record<string, string>): Promise<{ status: number; body: string; wwwAuth: string | null }> {
  const res = await fetch(`${runway.url}/auth/keys`, { headers });
  return { status: res.status, body: await res.text(), wwwAuth: res.headers.get('www-authenticate') };
}

describe('every bad key gets the same 401', () => {
  it('missing, malformed, unknown, wrong, revoked, expired and wrong-env keys are indistinguishable', async () => {
    const valid = owner.apiKey;
    const [prefix, secret] = valid.split('.') as [string, string];
    const shapes: Record<string, string>[] = [
      {},
      { 'x-api-key': '' },
      { 'x-api-key': 'rw_' },
      { 'x-api-key': 'not-a-key' },
      { 'x-api-key': prefix },
      { 'x-api-key': `${prefix}.` },
      { 'x-api-key': `${valid}x` },
      { 'x-api-key': valid.slice(0, -1) },
      { 'x-api-key': valid.replace('rw_', 'rx_') },
      { 'x-api-key': valid.toUpperCase() },
      { 'x-api-key': `${prefix}.${secret.split('').reverse().join('')}` },
      { 'x-api-key': `rw_prod_${'A'.repeat(16)}.${secret}` },
      { 'x-api-key': `rw_prod_${"'; DROP TABLE--".padEnd(16, 'x')}.${secret}` },
      { 'x-api-key': 'x'.repeat(4000) },
      { 'x-api-key': encodeURIComponent('rw_prod_ü') },
      { 'x-api-key': revoked },
      { 'x-api-key': expired },
      { 'x-api-key': otherEnv },
      { 'x-api-key': otherEnv.replace('rw_dev_', 'rw_prod_') },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from(`user:${valid}`).toString('base64')}` },
      { authorization: valid },
      { authorization: `Bearer ${valid} extra` },
      { authorization: `Bearer ${revoked}` },
      { authorization: `Bearer ${expired}` },
      { authorization: `Token ${valid}` },
    ];
    const reference = await answer({});
    expect(reference.status).toBe(401);
    expect(JSON.parse(reference.body).error.code).toBe('UNAUTHORIZED');
    for (const headers of shapes) {
      const got = await answer(headers);
      expect({ ...got, shape: headers }).toEqual({ ...reference, shape: headers });
    }
  });

  it('the valid key itself still works (the 401s above are not a broken server)', async () => {
    expect((await answer({ 'x-api-key': owner.apiKey })).status).toBe(200);
    expect((await answer({ authorization: `bearer ${owner.apiKey}` })).status).toBe(200);
  });

  it('records each denial with its reason in the audit log, never the key', async () => {
    await expect.poll(() => t.db.auditLog.count({ where: { action: 'request.denied' } })).toBeGreaterThanOrEqual(28);
    const rows = await t.db.auditLog.findMany({ where: { action: 'request.denied' } });
    const reasons = new Set(rows.map((row) => (row.details as { reason: string }).reason));
    for (const reason of ['missing', 'malformed', 'unknown', 'wrong_secret', 'revoked', 'expired', 'wrong_env']) expect(reasons).toContain(reason);
    expect(JSON.stringify(rows)).not.toContain(owner.apiKey.split('.')[1]);
    expect(rows.every((row) => row.ip && row.createdAt)).toBe(true);
  });
});
