import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { createUserWithKey } from '../support/api-keys.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
const processes: ChildProcess[] = [];
const urls: string[] = [];
const output: string[] = [];

/** `runway api` as its own OS process; resolves with its URL from the "API listening" log line. */
async function startApiProcess(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'api'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RUNWAY_STATE_DIR: '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  const lines = createInterface({ input: child.stdout! });
  const url = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      output.push(line);
      if (line.includes('API listening')) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`runway api exited with ${code}: ${output.join('\n').slice(-2000)}`)));
  });
  return url;
}

beforeAll(async () => {
  t = await createTestDatabase('revokeproc');
  const env = { DATABASE_URL: t.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: uniquePrefix('revokeproc') };
  urls.push(...(await Promise.all([startApiProcess(env), startApiProcess(env)])));
}, 180_000);
afterAll(async () => {
  for (const child of processes) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  await t?.drop();
});

const status = (url: string, apiKey: string) => fetch(`${url}/auth/keys`, { headers: { 'x-api-key': apiKey } }).then((res) => res.status);

describe('two `runway api` processes sharing PostgreSQL and Redis', () => {
  it('a key revoked through one process fails on the other at the next request, repeatedly', async () => {
    const [a, b] = urls as [string, string];
    const owner = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
    for (let round = 0; round < 10; round += 1) {
      const victim = await createUserWithKey(t.db, { scopes: ['LOGS_READ'] });
      expect(await status(a, victim.apiKey)).toBe(200);
      expect(await status(b, victim.apiKey)).toBe(200);
      const revoke = await fetch(`${round % 2 ? a : b}/auth/revoke`, {
        method: 'POST',
        headers: { 'x-api-key': victim.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ keyId: victim.keyId }),
      });
      expect(revoke.status).toBe(200);
      expect(await status(round % 2 ? b : a, victim.apiKey)).toBe(401);
    }
    expect(await status(b, owner.apiKey)).toBe(200);
  });
});
