import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('process');
});
afterAll(async () => {
  await t?.drop();
});

describe('the runway process', () => {
  it('migrates at start-up, serves /health and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'api'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, DATABASE_URL: t.url, REDIS_URL: TEST_REDIS_URL, PORT: '0', HOST: '127.0.0.1', RUNWAY_STATE_DIR: '/tmp', REDIS_PREFIX: `rwtest-proc-${process.pid}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 30_000;
    while (!/"msg":"API listening"/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /"url":"([^"]+)"/.exec(output)?.[1];
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('"msg":"shutting down"');
  });
});
