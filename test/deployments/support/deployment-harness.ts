import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDockerClient } from '../../../src/docker/docker-client.js';
import { DockerodeSwarmGateway } from '../../../src/docker/dockerode-swarm-gateway.js';
import { LABELS } from '../../../src/docker/swarm-gateway.js';
import type { Role } from '../../../src/runtime.js';
import type { Scope } from '../../../src/generated/prisma/enums.js';
import { createUserWithKey, type UserWithKey } from '../../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../../support/runway-instance.js';
import { TEST_IMAGE, TEST_REDIS_URL } from '../../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../../support/test-database.js';

export const ALL_SCOPES: Scope[] = ['ENVIRONMENTS_READ', 'ENVIRONMENTS_WRITE', 'DEPLOYMENTS_READ', 'DEPLOYMENTS_WRITE', 'LOGS_READ'];
export const TERMINAL = ['RUNNING', 'FAILED', 'STOPPED', 'SUPERSEDED'];

/** A busybox httpd answering `body` on container port 8080 (cap_drop ALL: no port below 1024). */
export function httpdCommand(body: string): string[] {
  return ['sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p 8080 -h /www`];
}

/** A free-looking host port; each test file picks its own so parallel files do not collide. */
export const randomHostPort = () => randomInt(20_000, 45_000);

export interface Harness {
  db: TestDatabase;
  prefix: string;
  runway: RunwayInstance;
  url: string;
  gateway: DockerodeSwarmGateway;
  redis: Redis;
  owner: UserWithKey;
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  createEnvironment(name: string, key?: string): Promise<{ id: string; name: string; networkName: string; networkId: string }>;
  deployImage(body: Record<string, unknown>, key?: string): Promise<{ status: number; body: any }>;
  waitForJob(jobId: string, states?: string[], timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

/** One test file's own Runway (API + worker), database schema, Redis prefix and Docker labels. */
export async function startHarness(label: string, env: Record<string, string> = {}, role: Role = 'all'): Promise<Harness> {
  const db = await createTestDatabase(label);
  const prefix = uniquePrefix(label).replace(/:/g, '-');
  const runway = await startRunway(
    {
      DATABASE_URL: db.url,
      REDIS_PREFIX: prefix,
      SERVICE_CONVERGE_TIMEOUT_MS: '30000',
      ALLOW_FILE_GIT_URLS: 'true',
      // Tests poll jobs every 100 ms and deploy more than 5 a minute; rate limits have their own tests.
      RATE_LIMIT_MAX: '1000000',
      DEPLOY_RATE_LIMIT: '1000',
      GIT_DEPLOY_RATE_LIMIT: '1000',
      LOG_LEVEL: 'info',
      ...env,
    },
    role,
  );
  const gateway = new DockerodeSwarmGateway(createDockerClient(), { removeRetryMs: 20_000 });
  const redis = new Redis(TEST_REDIS_URL);
  const owner = await createUserWithKey(db.db, { scopes: ALL_SCOPES });
  const url = runway.url;

  async function api(method: string, path: string, body?: unknown, key = owner.apiKey) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // JSON lines or plain text: the test reads `text`
    }
    return { status: response.status, body: parsed as any };
  }

  return {
    db, prefix, runway, url, gateway, redis, owner, api,
    async createEnvironment(name, key) {
      const response = await api('POST', '/environments', { name }, key);
      if (response.status !== 201) throw new Error(`create environment: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
    deployImage: (body, key) => api('POST', '/deployments', { image: TEST_IMAGE, ...body }, key),
    async waitForJob(jobId, states = TERMINAL, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const response = await api('GET', `/deployments/job/${jobId}`);
        if (states.includes(response.body?.status)) return response.body;
        if (Date.now() > deadline) throw new Error(`job ${jobId} still ${response.body?.status} after ${timeoutMs} ms: ${JSON.stringify(response.body?.transitions)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      if (process.env.RUNWAY_TEST_DUMP_LOGS) for (const line of runway.logs) if (/"level":(40|50|60)/.test(line)) console.log(line.slice(0, 2000));
      await runway.stop().catch(() => undefined);
      await removeLabelled(gateway, prefix);
      await redis.quit().catch(() => undefined);
      await db.drop();
    },
  };
}

/** Removes every Docker object labelled with this test's instance. */
export async function removeLabelled(gateway: DockerodeSwarmGateway, prefix: string): Promise<void> {
  const managed = await gateway.listManaged({ [LABELS.instance]: prefix });
  await Promise.all(managed.services.map((service) => gateway.removeService(service.id).catch(() => undefined)));
  await Promise.all(managed.networks.map((network) => gateway.removeNetwork(network.id).catch(() => undefined)));
  await Promise.all(managed.volumes.map((volume) => gateway.removeVolume(volume.name).catch(() => undefined)));
  const images = await createDockerClient().listImages({ filters: { label: [`${LABELS.instance}=${prefix}`] } });
  for (const image of images) await gateway.removeImage(image.Id).catch(() => undefined);
}

/** GET over plain HTTP with retries while the service starts. */
export async function fetchText(url: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return (await response.text()).trim();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`no answer from ${url}: ${(lastError as Error)?.message}`);
}
