import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../src/cli/admin-cli.js';
import type { CliIo } from '../../src/cli/cli-context.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { seedDeployment } from '../metrics/seed.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startFakeRegistry } from '../ops/fake-registry.js';
import { freeTcpPort } from '../support/free-port.js';
import { PEBBLE_LISTENER_CA, startPebble, type TestPebble } from '../support/pebble.js';

const run = promisify(execFile);

function captureIo(): CliIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (line) => out_.push(line), err: (line) => err_.push(line) };
}

let database: TestDatabase;
let pebble: TestPebble;
let dirs: string;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase('cli');
  pebble = await startPebble({ httpPort: await freeTcpPort() });
  dirs = await mkdtemp(join(tmpdir(), 'rw-doctor-'));
  env = {
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    NGINX_SITES_DIR: join(dirs, 'sites'),
    NGINX_CERTS_DIR: join(dirs, 'certs'),
    NGINX_ACME_WEBROOT: join(dirs, 'webroot'),
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_CA_CERT: PEBBLE_LISTENER_CA,
    ACME_EMAIL: 'ops@example.test',
    PUBLIC_URL: 'https://runway.example.test',
    TELEGRAM_BOT_TOKEN: '123:abc',
    METRICS_TOKEN: 'm',
  };
});

afterAll(async () => {
  await pebble?.stop();
  await rm(dirs, { recursive: true, force: true });
  await database?.drop();
});

describe('runway users', () => {
  it('allows a Telegram user as admin, creating it, and is idempotent', async () => {
    const io = captureIo();
    expect(await runAdminCommand('users', ['allow', '--telegram-id', '4242', '--admin'], io, env)).toBe(0);
    expect(io.out_[0]).toMatch(/^created and allowed user \S+ \(telegram 4242\) as ADMIN$/);
    const user = await database.db.user.findUniqueOrThrow({ where: { telegramId: '4242' } });
    expect(user).toMatchObject({ role: 'ADMIN', allowed: true });
    expect(await database.db.auditLog.count({ where: { action: 'user.allowed', targetId: user.id } })).toBe(1);

    const again = captureIo();
    expect(await runAdminCommand('users', ['allow', '--telegram-id', '4242'], again, env)).toBe(0);
    expect(again.out_[0]).toContain(`allowed user ${user.id}`);
    expect((await database.db.user.findUniqueOrThrow({ where: { id: user.id } })).role).toBe('ADMIN');
  });

  it('re-allows a user that exists but is not allowed, and links a Discord id', async () => {
    await database.db.user.create({ data: { id: 'u-blocked', telegramId: '777', allowed: false } });
    const io = captureIo();
    expect(await runAdminCommand('users', ['allow', '--telegram-id', '777', '--discord-id', '888'], io, env)).toBe(0);
    expect(await database.db.user.findUniqueOrThrow({ where: { id: 'u-blocked' } })).toMatchObject({ allowed: true, discordId: '888', role: 'USER' });
  });

  it('refuses ids of two different users, bad ids and bad command lines', async () => {
    await database.db.user.create({ data: { id: 'u-d', discordId: '999', allowed: true } });
    const conflict = captureIo();
    expect(await runAdminCommand('users', ['allow', '--telegram-id', '4242', '--discord-id', '999'], conflict, env)).toBe(1);
    expect(conflict.err_[0]).toContain('two different users');
    const bad = captureIo();
    expect(await runAdminCommand('users', ['allow', '--telegram-id', 'abc'], bad, env)).toBe(1);
    expect(bad.err_[0]).toContain('numeric');
    const usage = captureIo();
    expect(await runAdminCommand('users', ['allow', '--nope'], usage, env)).toBe(2);
    expect(usage.err_.join('\n')).toContain('usage: runway users allow');
    expect(await runAdminCommand('users', ['allow'], captureIo(), env)).toBe(2);
  });

  it('lists users', async () => {
    const io = captureIo();
    expect(await runAdminCommand('users', ['list'], io, env)).toBe(0);
    expect(io.out_[0]).toMatch(/^ID\s+TELEGRAM\s+DISCORD\s+ROLE\s+ALLOWED\s+CREATED$/);
    expect(io.out_.some((line) => line.includes('4242') && line.includes('ADMIN'))).toBe(true);
  });
});

describe('runway deployments list', () => {
  it('filters by user, environment and state', async () => {
    const first = await seedDeployment(database.db, { status: 'RUNNING', telegramId: '5150', envName: 'shop' });
    await seedDeployment(database.db, { status: 'FAILED', userId: first.userId, envName: 'blog' });
    const other = await seedDeployment(database.db, { status: 'RUNNING', envName: 'shop' });

    const byUser = captureIo();
    expect(await runAdminCommand('deployments', ['list', '--user', 'telegram:5150'], byUser, env)).toBe(0);
    expect(byUser.out_).toHaveLength(3);
    expect(byUser.out_[0]).toMatch(/^JOB\s+STATE\s+ENV/);

    const byEnv = captureIo();
    await runAdminCommand('deployments', ['list', '--env', 'shop', '--state', 'running', '--json'], byEnv, env);
    const rows = byEnv.out_.map((line) => JSON.parse(line) as { jobId: string; environment: string; status: string });
    expect(rows.map((row) => row.jobId).sort()).toEqual([first.jobId, other.jobId].sort());
    expect(rows.every((row) => row.environment === 'shop' && row.status === 'RUNNING')).toBe(true);

    const none = captureIo();
    await runAdminCommand('deployments', ['list', '--user', first.userId, '--env', 'shop', '--state', 'FAILED'], none, env);
    expect(none.err_).toEqual(['no deployments match']);
    expect(await runAdminCommand('deployments', ['list', '--state', 'SLEEPING'], captureIo(), env)).toBe(2);
  });
});

describe('runway doctor', () => {
  it('passes against the real services, one line per check', async () => {
    const io = captureIo();
    const code = await runAdminCommand('doctor', [], io, env);
    expect(io.out_.filter((line) => line.startsWith('[FAIL]'))).toEqual([]);
    expect(code).toBe(0);
    for (const name of ['config', 'database', 'migrations', 'redis', 'docker', 'swarm', 'nginx', 'nginx-config', 'acme']) {
      expect(io.out_.some((line) => line.startsWith(`[ ok ] ${name.padEnd(14)}`)), name).toBe(true);
    }
    expect(io.out_.at(-1)).toMatch(/^doctor: 0 failed/);
  });

  it('fails naming what to fix: untrusted ACME CA, Redis down, broken Nginx config', async () => {
    const brokenConf = join(dirs, 'broken.conf');
    await writeFile(brokenConf, 'events {}\nhttp { server { listen 8099; this_is_not_a_directive; } }\n');
    const io = captureIo();
    const code = await runAdminCommand('doctor', [], io, {
      ...env,
      ACME_CA_CERT: '',
      REDIS_URL: 'redis://127.0.0.1:1',
      NGINX_ARGS: `-e stderr -c ${brokenConf}`,
    });
    expect(code).toBe(1);
    const line = (name: string) => io.out_.find((candidate) => candidate.includes(`] ${name.padEnd(14)}`)) ?? '';
    expect(line('acme')).toMatch(/^\[FAIL\].*-> fix: set ACME_CA_CERT/);
    expect(line('redis')).toMatch(/^\[FAIL\].*ECONNREFUSED.*-> fix: .*REDIS_URL/);
    expect(line('nginx-config')).toMatch(/^\[FAIL\].*this_is_not_a_directive.*-> fix:/);
    expect(line('database')).toMatch(/^\[ ok \]/);
  });

  it('checks BUILD_REGISTRY and its credentials', async () => {
    const registry = await startFakeRegistry({ username: 'ops', password: 'right' });
    try {
      const line = async (extra: Record<string, string>) => {
        const io = captureIo();
        await runAdminCommand('doctor', [], io, { ...env, BUILD_REGISTRY: `${registry.host}/rw`, ...extra });
        return io.out_.find((candidate) => candidate.includes('] registry ')) ?? '';
      };
      expect(await line({ BUILD_REGISTRY_USERNAME: 'ops', BUILD_REGISTRY_PASSWORD: 'right' })).toMatch(/^\[ ok \] registry .*accepts/);
      expect(await line({ BUILD_REGISTRY_USERNAME: 'ops', BUILD_REGISTRY_PASSWORD: 'wrong' })).toMatch(/^\[FAIL\] registry .*refused the credentials.*-> fix: fix BUILD_REGISTRY_USERNAME/);
      expect(await line({})).toMatch(/^\[FAIL\] registry .*wants credentials/);
    } finally {
      await registry.close();
    }
  });

  it('runs from the runway command line and exits non-zero on bad configuration', async () => {
    const tsx = join(PROJECT_ROOT, 'node_modules/.bin/tsx');
    const failure = await run(tsx, ['src/main.ts', 'doctor'], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, PORT: 'abc' } }).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failure ? failure.code : 0).toBe(1);
    expect(failure.stdout).toContain('[FAIL] config         DATABASE_URL: is required');
    expect(failure.stdout).toContain('PORT:');
    const ok = await run(tsx, ['src/main.ts', 'users', 'list'], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, ...env } });
    expect(ok.stdout).toContain('4242');
  });
});
