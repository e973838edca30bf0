import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAccessCommand } from '../../src/cli/access-commands.js';
import { createLogger } from '../../src/logging/logger.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { testConfig } from '../support/test-config.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

const run = promisify(execFile);
let t: TestDatabase;
let runway: RunwayInstance;
const prefix = uniquePrefix('cli');

beforeAll(async () => {
  t = await createTestDatabase('cli');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: prefix });
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

async function cli(command: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const config = testConfig({ DATABASE_URL: t.url, REDIS_PREFIX: prefix, PUBLIC_URL: runway.url });
  const code = await runAccessCommand(command, args, config, createLogger({ level: 'silent' }), { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function redeem(url: string): Promise<{ apiKey: string; keyId: string; scopes: string[] }> {
  const token = new URL(url).searchParams.get('token');
  const res = await fetch(`${runway.url}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { apiKey: string; keyId: string; scopes: string[] };
}

describe('operator CLI', () => {
  it('`runway magic-link` (the real binary) creates the user and prints a link that yields a working key', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'magic-link', '--telegram-id', '4242', '--admin'],
      { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: t.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, PUBLIC_URL: runway.url, LOG_LEVEL: 'warn' } },
    );
    const url = stdout.trim();
    expect(url).toMatch(new RegExp(`^${runway.url}/auth/verify\\?token=[A-Za-z0-9_-]{32}$`));
    expect(stderr).toContain('ADMIN');
    const issued = await redeem(url);
    expect(issued.scopes).toContain('ADMIN');
    const user = await t.db.user.findUniqueOrThrow({ where: { telegramId: '4242' } });
    expect(user.role).toBe('ADMIN');
    expect((await fetch(`${runway.url}/auth/keys`, { headers: { 'x-api-key': issued.apiKey } })).status).toBe(200);
  });

  it('lists a user\'s keys and revokes one at once on the running API', async () => {
    const made = await cli('magic-link', '--discord-id', '777', '--scopes', 'logs_read,deployments_read');
    expect(made.code).toBe(0);
    const issued = await redeem(made.out[0] ?? '');
    expect(issued.scopes).toEqual(['LOGS_READ', 'DEPLOYMENTS_READ']);
    expect((await fetch(`${runway.url}/auth/keys`, { headers: { 'x-api-key': issued.apiKey } })).status).toBe(200);
    const listed = await cli('keys', 'list', '--discord-id', '777');
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(/^KEY ID\s+STATUS/);
    expect(listed.out.join('\n')).toContain(issued.keyId);
    expect(listed.out.join('\n')).not.toContain(issued.apiKey.split('.')[1]);
    const revoked = await cli('keys', 'revoke', issued.keyId);
    expect(revoked).toMatchObject({ code: 0 });
    expect((await fetch(`${runway.url}/auth/keys`, { headers: { 'x-api-key': issued.apiKey } })).status).toBe(401);
  });

  it('revokes a key whose id begins with a dash (nanoid ids may)', async () => {
    const made = await cli('magic-link', '--discord-id', '778');
    const issued = await redeem(made.out[0] ?? '');
    const dashed = `-${issued.keyId.slice(1)}`;
    await t.db.apiKey.update({ where: { keyId: issued.keyId }, data: { keyId: dashed } });
    const revoked = await cli('keys', 'revoke', dashed);
    expect(revoked).toMatchObject({ code: 0, out: [expect.stringContaining(`revoked ${dashed}`)] });
    expect((await t.db.apiKey.findUniqueOrThrow({ where: { keyId: dashed } })).revokedAt).toBeInstanceOf(Date);
  });

  it('refuses bad command lines with exit code 2 and unknown keys or scopes with 1, changing nothing', async () => {
    expect((await cli('magic-link')).code).toBe(2);
    expect((await cli('magic-link', '--telegram-id', '1', '--discord-id', '2')).code).toBe(2);
    expect((await cli('keys', 'revoke')).code).toBe(2);
    expect((await cli('keys', 'list')).code).toBe(2);
    const unknown = await cli('keys', 'revoke', 'AAAAAAAAAAAAAAAA');
    expect(unknown.code).toBe(1);
    expect(unknown.err.join('\n')).toContain('not found');
    const badScope = await cli('magic-link', '--telegram-id', '99', '--scopes', 'ROOT');
    expect(badScope.code).toBe(2);
    expect(await t.db.user.count({ where: { telegramId: '99' } })).toBe(0);
  });
});
