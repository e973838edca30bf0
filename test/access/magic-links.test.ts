import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { AccessUseCases } from '../../src/core/access/access-use-cases.js';
import { DEFAULT_SCOPES, OPERATOR } from '../../src/core/access/access-dependencies.js';
import { spentLinksCleanupJob } from '../../src/core/access/housekeeping-job.js';
import { hashLinkToken } from '../../src/core/access/secret-hashing.js';
import type { Principal } from '../../src/core/principal.js';
import { createLogger } from '../../src/logging/logger.js';
import { JobScheduler } from '../../src/scheduler/scheduled-jobs.js';
import { createUserWithKey, testAccessUseCases, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let runway: RunwayInstance;
let access: AccessUseCases;
let user: UserWithKey;
let actor: Principal;

beforeAll(async () => {
  t = await createTestDatabase('links');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('links') });
  access = testAccessUseCases(t.db);
  user = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
  actor = { userId: user.user.id, role: 'USER', scopes: [] };
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

const redeem = (token: string) =>
  fetch(`${runway.url}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });

describe('magic links', () => {
  it('default to every scope but ADMIN, expire after 15 minutes and store only a hash of the token', async () => {
    const link = await access.createMagicLink(actor);
    expect(link.scopes).toEqual(DEFAULT_SCOPES);
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(link.url).toBe(`http://127.0.0.1:3000/auth/verify?token=${link.token}`);
    expect(Math.abs(link.expiresAt.getTime() - Date.now() - 15 * 60_000)).toBeLessThan(5_000);
    const row = await t.db.magicLink.findUniqueOrThrow({ where: { tokenHash: hashLinkToken(link.token) } });
    expect(JSON.stringify(row)).not.toContain(link.token);
  });

  it('let only admins grant ADMIN or make links for someone else, and reject unknown scopes', async () => {
    await expect(access.createMagicLink(actor, { scopes: ['ADMIN'] })).rejects.toMatchObject({ status: 403 });
    await expect(access.createMagicLink(actor, { scopes: ['ROOT'] })).rejects.toMatchObject({ status: 400 });
    const admin = await createUserWithKey(t.db, { scopes: ['ADMIN'], role: 'ADMIN' });
    await expect(access.createMagicLink(actor, { userId: admin.user.id })).rejects.toMatchObject({ status: 403 });
    const adminActor: Principal = { userId: admin.user.id, role: 'ADMIN', scopes: ['ADMIN'] };
    expect((await access.createMagicLink(adminActor, { scopes: ['ADMIN'] })).scopes).toEqual(['ADMIN']);
    expect((await access.createMagicLink(OPERATOR, { userId: user.user.id, scopes: ['LOGS_READ'] })).scopes).toEqual(['LOGS_READ']);
    await expect(access.createMagicLink(OPERATOR, { userId: 'nobody' })).rejects.toMatchObject({ status: 404 });
  });

  it('GET shows a page and does not use the token; POST uses it once; again: 410; unknown: 404', async () => {
    const link = await access.createMagicLink(actor, { scopes: ['DEPLOYMENTS_READ', 'LOGS_READ'] });
    for (let i = 0; i < 3; i += 1) {
      const page = await fetch(link.url.replace('http://127.0.0.1:3000', runway.url));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
    }
    expect((await t.db.magicLink.findUniqueOrThrow({ where: { tokenHash: hashLinkToken(link.token) } })).usedAt).toBeNull();
    const first = await redeem(link.token);
    expect(first.status).toBe(201);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const issued = (await first.json()) as { apiKey: string; keyId: string; scopes: string[]; expiresAt: null };
    expect(issued).toEqual({ apiKey: expect.stringMatching(/^rw_prod_/), keyId: expect.any(String), scopes: ['DEPLOYMENTS_READ', 'LOGS_READ'], expiresAt: null });
    const second = await redeem(link.token);
    expect(second.status).toBe(410);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('GONE');
    expect((await fetch(`${runway.url}/auth/verify?token=${link.token}`)).status).toBe(410);
    expect((await redeem('A'.repeat(32))).status).toBe(404);
    expect((await fetch(`${runway.url}/auth/verify?token=${'B'.repeat(32)}`)).status).toBe(404);
    const truncated = await fetch(`${runway.url}/auth/verify`);
    expect(truncated.status).toBe(404);
    expect(truncated.headers.get('content-type')).toContain('text/html');
    const keys = await fetch(`${runway.url}/auth/keys`, { headers: { 'x-api-key': issued.apiKey } });
    expect(keys.status).toBe(200);
  });

  it('of two concurrent redeems exactly one gets a key', async () => {
    const link = await access.createMagicLink(actor);
    const statuses = (await Promise.all([redeem(link.token), redeem(link.token), redeem(link.token)])).map((res) => res.status).sort();
    expect(statuses).toEqual([201, 410, 410]);
  });

  it('expired links answer 410 and are deleted by the housekeeping job, with used ones; fresh ones stay', async () => {
    const expired = await access.createMagicLink(actor);
    await t.db.magicLink.update({ where: { tokenHash: hashLinkToken(expired.token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await redeem(expired.token)).status).toBe(410);
    const fresh = await access.createMagicLink(actor);
    const redis = new Redis(TEST_REDIS_URL);
    const logger = createLogger({ level: 'silent' });
    const scheduler = new JobScheduler(redis, uniquePrefix('links-job'), logger);
    try {
      const deleted = await scheduler.runOnce(spentLinksCleanupJob(access, logger));
      expect(deleted).toBeGreaterThanOrEqual(3);
    } finally {
      await scheduler.stop();
      redis.disconnect();
    }
    const remaining = await t.db.magicLink.findMany();
    expect(remaining.map((link) => link.tokenHash)).toContain(hashLinkToken(fresh.token));
    expect(remaining.every((link) => link.usedAt === null && link.expiresAt > new Date())).toBe(true);
  });

  it('audits links made, keys created and keys revoked with who and when', async () => {
    const link = await access.createMagicLink(actor);
    const issued = await access.redeemMagicLink(link.token);
    await access.revokeKey(actor, issued.keyId);
    const rows = await t.db.auditLog.findMany({ where: { targetId: issued.keyId }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((row) => [row.action, row.outcome, row.actorUserId])).toEqual([
      ['api_key.created', 'success', user.user.id],
      ['api_key.revoked', 'success', user.user.id],
    ]);
    expect(await t.db.auditLog.count({ where: { action: 'magic_link.created', actorUserId: user.user.id } })).toBeGreaterThan(0);
    expect(JSON.stringify(await t.db.auditLog.findMany())).not.toContain(issued.apiKey);
  });

  it('lists keys without secrets; revoking another user\'s key is "not found"', async () => {
    const other = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    const listed = await access.listKeys(actor);
    expect(listed.map((key) => key.keyId)).toContain(user.keyId);
    expect(JSON.stringify(listed)).not.toMatch(/secretHash|\$2[aby]\$/);
    await expect(access.revokeKey(actor, other.keyId)).rejects.toMatchObject({ status: 404 });
    await expect(access.listKeys(actor, { userId: other.user.id })).rejects.toMatchObject({ status: 404 });
    expect((await access.listKeys(OPERATOR, { userId: other.user.id })).map((key) => key.keyId)).toEqual([other.keyId]);
  });
});
