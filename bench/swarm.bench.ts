/**
 * Issue 4 (Docker side): createService until the first task runs, through
 * DockerodeSwarmGateway (ensureService + listTasks) against raw dockerode
 * (createService + listTasks), same local image, alternating, same run.
 * Both poll tasks every 20 ms, so the ratio is the gateway's own overhead.
 */
import { createDockerClient } from '../src/docker/docker-client.js';
import { DockerodeSwarmGateway } from '../src/docker/dockerode-swarm-gateway.js';
import { buildEngineServiceSpec } from '../src/docker/service-spec-builder.js';
import { LABELS, type ServiceSpec } from '../src/docker/swarm-gateway.js';
import { median } from './bench-stats.js';
import type { BenchFigure } from './run.js';

const ROUNDS = 7;
const POLL_MS = 20;
const IMAGE = 'local/busybox:1';

const round = (ms: number) => Math.round(ms * 10) / 10;

export default async function swarmBench(): Promise<BenchFigure[]> {
  const docker = createDockerClient();
  const gateway = new DockerodeSwarmGateway(docker);
  const instance = `bench${Date.now().toString(36)}`;
  const labels = { [LABELS.managed]: 'true', [LABELS.instance]: instance };
  const { id: networkId } = await gateway.ensureNetwork(`rwb-${instance}`, labels);
  const spec = (name: string): ServiceSpec => ({
    name, image: IMAGE, labels, networkId, networkAliases: [name], command: ['sh', '-c', 'sleep 3600'], env: {}, ports: [], mounts: [],
    replicas: 1, cpuLimit: 0.25, memoryLimitBytes: 64 << 20, capAdd: [], endpointMode: 'dnsrr', publishMode: 'host', stopGracePeriodMs: 500,
  });
  const untilRunning = async (list: () => Promise<{ state: string }[]>) => {
    while (!(await list()).some((task) => task.state === 'running')) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  };
  const raw: number[] = [];
  const viaGateway: number[] = [];
  const writes: number[] = [];
  let burst = { raw: 0, gateway: 0 };
  try {
    // One warm-up of each path (first-call checks, connection set-up).
    for (let index = -1; index < ROUNDS; index += 1) {
      const rawName = `rwb-${instance}-raw${index + 1}`;
      const gatewayName = `rwb-${instance}-gw${index + 1}`;
      const measureRaw = async () => {
        const started = performance.now();
        const service = await docker.createService(buildEngineServiceSpec(spec(rawName)) as never);
        await untilRunning(async () => (await docker.listTasks({ filters: { service: [service.id] } })).map((task) => ({ state: task.Status?.State ?? '' })));
        return performance.now() - started;
      };
      const measureGateway = async () => {
        const started = performance.now();
        const state = await gateway.ensureService(spec(gatewayName));
        const written = performance.now() - started;
        await untilRunning(() => gateway.listTasks(state.id));
        writes.push(written);
        return performance.now() - started;
      };
      // Alternate which path goes first, so neither always meets a busier engine.
      const [first, second] = index % 2 === 0 ? [measureRaw, measureGateway] : [measureGateway, measureRaw];
      const a = await first();
      const b = await second();
      if (index >= 0) {
        raw.push(first === measureRaw ? a : b);
        viaGateway.push(first === measureRaw ? b : a);
      }
      await Promise.all([gateway.removeService(rawName), gateway.removeService(gatewayName)]);
      // Let the removed tasks stop before the next round.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    burst = await measureBursts(docker, gateway, spec, instance);
  } finally {
    for (const service of await docker.listServices({ filters: { label: [`${LABELS.instance}=${instance}`] } })) await gateway.removeService(service.ID);
    await gateway.removeNetwork(networkId);
  }
  const rawMedian = median(raw);
  const gatewayMedian = median(viaGateway);
  return [
    { name: 'raw createService -> first task running (median)', value: round(rawMedian), unit: 'ms', note: `${ROUNDS} rounds, poll ${POLL_MS} ms` },
    { name: 'gateway ensureService -> first task running (median)', value: round(gatewayMedian), unit: 'ms' },
    { name: 'gateway ensureService call alone (median)', value: round(median(writes)), unit: 'ms', note: 'inspect + create + inspect' },
    { name: `raw: ${BURST} createService at once -> all running`, value: round(burst.raw), unit: 'ms' },
    { name: `gateway: ${BURST} ensureService at once -> all running`, value: round(burst.gateway), unit: 'ms' },
    { name: `gateway / raw (${BURST} at once)`, value: Math.round((burst.gateway / burst.raw) * 100) / 100, unit: 'ratio' },
    { name: 'gateway / raw', value: Math.round((gatewayMedian / rawMedian) * 100) / 100, unit: 'ratio' },
  ];
}

const BURST = 20;

/** 20 services created at once and polled until every one has a running task, raw then through the gateway. */
async function measureBursts(docker: ReturnType<typeof createDockerClient>, gateway: DockerodeSwarmGateway, spec: (name: string) => ServiceSpec, instance: string) {
  const names = (kind: string) => Array.from({ length: BURST }, (_, index) => `rwb-${instance}-${kind}${index}`);
  const allRunning = async (ids: string[], list: (id: string) => Promise<{ state: string }[]>) => {
    let pending = ids;
    while (pending.length > 0) {
      const states = await Promise.all(pending.map(async (id) => ((await list(id)).some((task) => task.state === 'running') ? undefined : id)));
      pending = states.filter((id): id is string => id !== undefined);
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));
    }
  };
  const removeAll = async (all: string[]) => {
    await Promise.all(all.map((name) => gateway.removeService(name)));
    await new Promise((resolve) => setTimeout(resolve, 4000));
  };
  const rawNames = names('burstraw');
  let started = performance.now();
  const rawIds = await Promise.all(rawNames.map(async (name) => (await docker.createService(buildEngineServiceSpec(spec(name)) as never)).id as string));
  await allRunning(rawIds, async (id) => (await docker.listTasks({ filters: { service: [id] } })).map((task) => ({ state: task.Status?.State ?? '' })));
  const raw = performance.now() - started;
  await removeAll(rawNames);
  const gatewayNames = names('burstgw');
  started = performance.now();
  const states = await Promise.all(gatewayNames.map((name) => gateway.ensureService(spec(name))));
  await allRunning(states.map((state) => state.id), (id) => gateway.listTasks(id));
  const viaGateway = performance.now() - started;
  await removeAll(gatewayNames);
  return { raw, gateway: viaGateway };
}
