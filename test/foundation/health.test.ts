import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../support/free-port.js';
import { CuttableProxy } from '../support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { TEST_DOCKER_SOCKET } from '../support/services.js';

/** A Redis of this test's own, so stopping it does not disturb other suites. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.once('error', () => resolve(true));
      socket.once('listening', () => socket.close(() => resolve(false)));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('test redis did not start');
}

async function health(url: string): Promise<{ status: number; body: { failing: string[]; checks: Record<string, { ok: boolean }> } }> {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: (await res.json()) as { failing: string[]; checks: Record<string, { ok: boolean }> } };
}

async function eventually(url: string, predicate: (h: Awaited<ReturnType<typeof health>>) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await health(url);
  while (!predicate(last)) {
    if (Date.now() > deadline) throw new Error(`health never matched: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await health(url);
  }
  return last;
}

let t: TestDatabase;
let runway: RunwayInstance;
let redisPort: number;
let redis: ChildProcess;
const pgProxy = new CuttableProxy({ port: 5432 });
const dockerProxy = new CuttableProxy({ path: TEST_DOCKER_SOCKET });
const dockerProxyPath = `/tmp/rw-docker-${randomBytes(4).toString('hex')}.sock`;
let pgProxyPort: number;

beforeAll(async () => {
  t = await createTestDatabase('health');
  redisPort = await freeTcpPort();
  redis = await startRedis(redisPort);
  pgProxyPort = await pgProxy.start();
  await dockerProxy.start(dockerProxyPath);
  runway = await startRunway({
    DATABASE_URL: t.url.replace(':5432/', `:${pgProxyPort}/`),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    DOCKER_HOST: `unix://${dockerProxyPath}`,
  });
});

afterAll(async () => {
  await runway?.stop();
  redis?.kill('SIGKILL');
  await pgProxy.cut();
  await dockerProxy.cut();
  await t?.drop();
});

describe('GET /health', () => {
  it('answers 200 when the database, Redis, Docker swarm, disk and memory are fine', async () => {
    const { status, body } = await health(runway.url);
    expect(body.failing).toEqual([]);
    expect(status).toBe(200);
    expect(Object.keys(body.checks).sort()).toEqual(['database', 'disk', 'docker', 'memory', 'redis']);
    expect(body.failing).toEqual([]);
  });

  it('answers 503 naming Redis while it is stopped, and recovers on its own', async () => {
    redis.kill('SIGKILL');
    const down = await eventually(runway.url, (h) => h.status === 503);
    expect(down.body.failing).toEqual(['redis']);
    redis = await startRedis(redisPort);
    await eventually(runway.url, (h) => h.status === 200);
  });

  it('answers 503 naming the database while it is unreachable, and recovers on its own', async () => {
    await pgProxy.cut();
    const down = await eventually(runway.url, (h) => h.status === 503);
    expect(down.body.failing).toEqual(['database']);
    await pgProxy.start(pgProxyPort);
    await eventually(runway.url, (h) => h.status === 200);
  });

  it('answers 503 naming Docker while the engine is unreachable, and recovers on its own', async () => {
    await dockerProxy.cut();
    const down = await eventually(runway.url, (h) => h.status === 503);
    expect(down.body.failing).toEqual(['docker']);
    await dockerProxy.start(dockerProxyPath);
    await eventually(runway.url, (h) => h.status === 200);
  });
});
