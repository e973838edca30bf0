import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, testAccessUseCases } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let runway: RunwayInstance;

beforeAll(async () => {
  t = await createTestDatabase('logsecrets');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('logsecrets'), LOG_LEVEL: 'trace', RATE_LIMIT_MAX: '3' });
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

describe('captured logs', () => {
  it('never contain a key, a key secret or a magic-link token, through every access flow', async () => {
    const owner = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
    const access = testAccessUseCases(t.db);
    const actor = { userId: owner.user.id, role: 'USER' as const, scopes: [] };
    const jsonLink = await access.createMagicLink(actor);
    const formLink = await access.createMagicLink(actor);
    const base = runway.url;
    await fetch(`${base}/auth/verify?token=${jsonLink.token}`);
    const issued = (await (
      await fetch(`${base}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: jsonLink.token }) })
    ).json()) as { apiKey: string; keyId: string };
    const page = await (
      await fetch(`${base}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${formLink.token}` })
    ).text();
    const formKey = /value="(rw_[^"]+)"/.exec(page)?.[1] ?? '';
    expect(formKey).toMatch(/^rw_prod_/);
    await fetch(`${base}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: jsonLink.token }) });
    for (const key of [issued.apiKey, owner.apiKey, formKey]) {
      await fetch(`${base}/auth/keys`, { headers: { 'x-api-key': key } });
      await fetch(`${base}/auth/keys`, { headers: { authorization: `Bearer ${key}` } });
      await fetch(`${base}/auth/keys?token=${key}`, { headers: { 'x-api-key': `${key}x` } });
    }
    // Rate limited (RATE_LIMIT_MAX=3), then revoked, then used again.
    for (let i = 0; i < 3; i += 1) await fetch(`${base}/auth/keys`, { headers: { 'x-api-key': owner.apiKey } });
    await fetch(`${base}/auth/revoke`, {
      method: 'POST',
      headers: { 'x-api-key': issued.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ keyId: issued.keyId }),
    });
    await fetch(`${base}/auth/keys`, { headers: { 'x-api-key': issued.apiKey } });
    await fetch(`${base}/no/such/route?token=${formLink.token}`, { headers: { 'x-api-key': formKey } });

    const secrets = [jsonLink.token, formLink.token, ...[issued.apiKey, owner.apiKey, formKey].flatMap((key) => [key, key.split('.')[1] as string])];
    expect(runway.logs.length).toBeGreaterThan(10);
    const leaks = runway.logs.filter((line) => secrets.some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
    // The logs do say what happened, just not with secrets.
    expect(runway.logs.some((line) => line.includes('request denied'))).toBe(true);
  });
});
