/**
 * Issue 4: deploy overhead. (1) POST /deployments until the job reads RUNNING
 * over the Engine API's own createService until the first task runs, same
 * local image, alternating side by side (target ratio <= 1.3). (2) 20
 * deployments posted at once, all RUNNING, over 20 raw creates at once.
 * Runway is measured with its default SERVICE_STABLE_MS (a task must have run
 * that long, so a command that crashes at start is not called RUNNING) and,
 * to show the pipeline's own cost, with the window off.
 */
import type Docker from 'dockerode';
import { createDockerClient } from '../src/docker/docker-client.js';
import { DockerodeSwarmGateway } from '../src/docker/dockerode-swarm-gateway.js';
import { LABELS } from '../src/docker/swarm-gateway.js';
import { buildEngineServiceSpec } from '../src/docker/service-spec-builder.js';
import { buildServiceSpec } from '../src/core/deployments/service-spec.js';
import { removeLabelled } from '../test/deployments/support/deployment-harness.js';
import { ALL_SCOPES } from '../test/deployments/support/deployment-harness.js';
import { createUserWithKey } from '../test/support/api-keys.js';
import { startRunway, type RunwayInstance } from '../test/support/runway-instance.js';
import { TEST_IMAGE } from '../test/support/services.js';
import { createTestDatabase, uniquePrefix } from '../test/support/test-database.js';
import { median } from './bench-stats.js';
import type { BenchFigure } from './run.js';

const ROUNDS = 5;
const BURST = Number(process.env.BENCH_BURST ?? 20);
const POLL_MS = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round3 = (value: number) => Math.round(value * 1000) / 1000;

interface Side {
  runway: RunwayInstance;
  apiKey: string;
  environmentId: string;
}

async function startSide(prefix: string, env: Record<string, string>): Promise<Side & { drop: () => Promise<void> }> {
  const db = await createTestDatabase('bench_deploy');
  const runway = await startRunway({ DATABASE_URL: db.url, REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '1000000', DEPLOY_RATE_LIMIT: '100000', LOG_LEVEL: 'warn', METRICS_PORT: '0', ...env }, 'all');
  const owner = await createUserWithKey(db.db, { scopes: ALL_SCOPES });
  const response = await fetch(`${runway.url}/environments`, { method: 'POST', headers: { 'x-api-key': owner.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });
  const environment = (await response.json()) as { id: string };
  return { runway, apiKey: owner.apiKey, environmentId: environment.id, drop: async () => { await runway.stop(); await db.drop(); } };
}

/** POST /deployments, then poll the job until RUNNING; seconds. */
async function runwayDeploy(side: Side, name: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${side.runway.url}/deployments`, {
    method: 'POST',
    headers: { 'x-api-key': side.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ environmentId: side.environmentId, image: TEST_IMAGE, name, command: ['sleep', '3600'] }),
  });
  const { jobId } = (await response.json()) as { jobId: string };
  for (;;) {
    const job = (await (await fetch(`${side.runway.url}/deployments/job/${jobId}`, { headers: { 'x-api-key': side.apiKey } })).json()) as { status: string; errorMessage?: string };
    if (job.status === 'RUNNING') return (performance.now() - started) / 1000;
    if (job.status === 'FAILED') throw new Error(`bench deployment failed: ${job.errorMessage}`);
    await sleep(POLL_MS);
  }
}

/**
 * The Engine API's own createService until its first task runs; seconds. The
 * body is the very spec Runway sends (limits, cap drop, init, overlay alias),
 * so the ratio measures Runway's pipeline, not the cost of its defaults.
 */
async function rawCreate(docker: Docker, networkId: string, name: string, prefix: string): Promise<number> {
  const spec = buildServiceSpec(
    { deploymentId: name, userId: 'bench', environmentId: 'bench', networkId, serviceId: name, serviceName: name, image: TEST_IMAGE, options: { command: ['sleep', '3600'] } },
    { instance: prefix, endpointMode: 'dnsrr', publishMode: 'host', cpu: 1, memoryMb: 512 },
  );
  const started = performance.now();
  const service = await docker.createService(buildEngineServiceSpec(spec) as unknown as Docker.CreateServiceOptions);
  for (;;) {
    const tasks = await docker.listTasks({ filters: { service: [service.id] } });
    if (tasks.some((task) => (task as { Status?: { State?: string } }).Status?.State === 'running')) return (performance.now() - started) / 1000;
    await sleep(POLL_MS);
  }
}

export default async function deploymentsBench(): Promise<BenchFigure[]> {
  const docker = createDockerClient();
  const gateway = new DockerodeSwarmGateway(docker);
  const rawPrefix = uniquePrefix('bench-raw').replace(/:/g, '-');
  const network = await gateway.ensureNetwork(`${rawPrefix}-net`, { [LABELS.managed]: 'true', [LABELS.instance]: rawPrefix });
  const prefixes = { stable: uniquePrefix('bench-rw').replace(/:/g, '-'), nowindow: uniquePrefix('bench-rw0').replace(/:/g, '-') };
  const stable = await startSide(prefixes.stable, {});
  const noWindow = await startSide(prefixes.nowindow, { SERVICE_STABLE_MS: '0' });
  const figures: BenchFigure[] = [];
  try {
    const raw: number[] = [];
    const ours: number[] = [];
    const ours0: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      raw.push(await rawCreate(docker, network.id, `${rawPrefix}-r${round}`, rawPrefix));
      ours.push(await runwayDeploy(stable, `svc${round}`));
      ours0.push(await runwayDeploy(noWindow, `svc${round}`));
    }
    figures.push(
      { name: 'raw createService -> first task running (median)', value: round3(median(raw)), unit: 's', note: raw.map(round3).join(' ') },
      { name: 'POST /deployments -> RUNNING (median, default SERVICE_STABLE_MS=500)', value: round3(median(ours)), unit: 's', note: ours.map(round3).join(' ') },
      { name: 'deploy overhead ratio (default config)', value: round3(median(ours) / median(raw)), unit: 'x', note: 'target <= 1.3' },
      { name: 'POST /deployments -> RUNNING (median, SERVICE_STABLE_MS=0)', value: round3(median(ours0)), unit: 's', note: ours0.map(round3).join(' ') },
      { name: 'deploy overhead ratio (stability window off)', value: round3(median(ours0) / median(raw)), unit: 'x', note: 'target <= 1.3' },
    );

    const burstRawStart = performance.now();
    await Promise.all(Array.from({ length: BURST }, (_, i) => rawCreate(docker, network.id, `${rawPrefix}-b${i}`, rawPrefix)));
    const burstRaw = (performance.now() - burstRawStart) / 1000;
    const burstStart = performance.now();
    await Promise.all(Array.from({ length: BURST }, (_, i) => runwayDeploy(stable, `burst${i}`)));
    const burstOurs = (performance.now() - burstStart) / 1000;
    figures.push(
      { name: `${BURST} raw creates at once, all running`, value: round3(burstRaw), unit: 's' },
      { name: `${BURST} deployments posted at once, all RUNNING`, value: round3(burstOurs), unit: 's' },
      { name: `${BURST} at once: Runway over raw`, value: round3(burstOurs / burstRaw), unit: 'x' },
    );
  } finally {
    await stable.drop().catch(() => undefined);
    await noWindow.drop().catch(() => undefined);
    for (const prefix of [rawPrefix, prefixes.stable, prefixes.nowindow]) await removeLabelled(gateway, prefix);
  }
  return figures;
}
