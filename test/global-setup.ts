import { access } from 'node:fs/promises';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_DOCKER_SOCKET, TEST_IMAGE, TEST_REDIS_URL } from './support/services.js';

/**
 * Fails the whole run, naming the service, when a dependency is missing: a
 * missing service is a failure, never a skip (issue 2).
 */
async function requireService(name: string, fix: string, probe: () => Promise<unknown>): Promise<void> {
  try {
    await probe();
  } catch (error) {
    throw new Error(`${name} is not available (${(error as Error).message}). ${fix}`);
  }
}

async function ensureTestDatabase(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

export default async function setup(): Promise<void> {
  const fix = 'Run the set-up command from the README (sudo ./scripts/setup.sh).';
  await requireService('PostgreSQL', fix, ensureTestDatabase);
  await requireService('Redis', fix, async () => {
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await redis.connect();
      await redis.ping();
    } finally {
      redis.disconnect();
    }
  });
  await requireService('Docker engine in swarm mode', fix, async () => {
    const info = await new Docker({ socketPath: TEST_DOCKER_SOCKET }).info();
    if (info.Swarm?.LocalNodeState !== 'active') throw new Error(`swarm is ${info.Swarm?.LocalNodeState}`);
  });
  await requireService(`image ${TEST_IMAGE}`, fix, () => new Docker({ socketPath: TEST_DOCKER_SOCKET }).getImage(TEST_IMAGE).inspect());
  await requireService('Nginx', fix, () => access('/usr/sbin/nginx'));
  await requireService('Pebble', fix, () => access('/usr/bin/pebble'));
  await requireService('Chromium', fix, () => access('/usr/bin/chromium'));
}
