/**
 * The contract every SwarmGateway keeps, run against the dockerode gateway
 * (real swarm) and the in-memory fake, so the fake cannot drift. Inputs are
 * things both understand: the local busybox image, `sh -c` scripts of echo /
 * exit / sleep, health checks of `exit N`, Dockerfiles of FROM and RUN.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessRollout, type RolloutStatus } from '../../src/docker/rollout-status.js';
import { isSwarmError } from '../../src/docker/swarm-errors.js';
import { LABELS, type LogLine, type ServiceSpec, type SwarmGateway } from '../../src/docker/swarm-gateway.js';

export const TEST_IMAGE = 'local/busybox:1';

export interface ContractSubject {
  gateway: SwarmGateway;
  /** Labels every object the suite creates carries (LABELS.instance = a unique test id). */
  instance: string;
  /** An image a pull fetches (the real suite serves it from a fake registry on loopback). */
  pullable: string;
  /** An image whose pull starts (200) and then fails inside the progress stream. */
  brokenPull: string;
  /** Removes whatever the suite left behind. */
  cleanup(): Promise<void>;
}

export function uniqueInstance(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls the gateway until the rollout of `deploymentId` is no longer progressing. */
export async function settle(gateway: SwarmGateway, name: string, deploymentId: string, timeoutMs = 45_000, minStableMs = 0): Promise<RolloutStatus> {
  return waitFor(
    async () => {
      const service = await gateway.inspectService(name);
      if (!service) throw new Error(`service ${name} missing`);
      const status = assessRollout(service, await gateway.listTasks(service.id), { deploymentId, minStableMs });
      return status.phase === 'progressing' ? undefined : status;
    },
    timeoutMs,
    `rollout of ${name}`,
  );
}

export function tarContext(files: Record<string, string>): Readable {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name }, content);
  archive.finalize();
  return Readable.from(archive);
}

async function collect(lines: AsyncIterable<LogLine>, until: (seen: LogLine[]) => boolean, abort?: AbortController): Promise<LogLine[]> {
  const seen: LogLine[] = [];
  for await (const line of lines) {
    seen.push(line);
    if (until(seen)) {
      abort?.abort();
      break;
    }
  }
  return seen;
}

export function describeSwarmGatewayContract(name: string, createSubject: () => Promise<ContractSubject>): void {
  describe(`SwarmGateway contract: ${name}`, () => {
    let subject: ContractSubject;
    let gateway: SwarmGateway;
    let networkId: string;
    let counter = 0;
    const nameFor = (suffix: string) => `rwt-${subject.instance}-${suffix}`;
    const labelsFor = (deployment: string): Record<string, string> => ({
      [LABELS.managed]: 'true',
      [LABELS.instance]: subject.instance,
      [LABELS.deployment]: deployment,
    });
    const specFor = (service: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec => ({
      name: nameFor(service),
      image: TEST_IMAGE,
      labels: labelsFor(`d${(counter += 1)}`),
      networkId,
      networkAliases: [service],
      command: ['sh', '-c', 'echo up; sleep 3600'],
      env: { GREETING: 'hello' },
      ports: [],
      mounts: [],
      replicas: 1,
      cpuLimit: 0.25,
      memoryLimitBytes: 64 * 1024 * 1024,
      capAdd: [],
      endpointMode: 'dnsrr',
      publishMode: 'host',
      stopGracePeriodMs: 1000,
      ...overrides,
    });
    const deploymentOf = (spec: ServiceSpec) => spec.labels[LABELS.deployment] ?? '';

    beforeAll(async () => {
      subject = await createSubject();
      gateway = subject.gateway;
      networkId = (await gateway.ensureNetwork(`rwt-${subject.instance}-net`, labelsFor('net'))).id;
    });

    afterAll(async () => {
      await subject?.cleanup();
    });

    describe('networks and volumes', () => {
      it('ensureNetwork is idempotent and labels the network', async () => {
        const first = await gateway.ensureNetwork(nameFor('n1'), labelsFor('n1'));
        const second = await gateway.ensureNetwork(nameFor('n1'), labelsFor('n1'));
        expect(second.id).toBe(first.id);
        const managed = await gateway.listManaged({ [LABELS.instance]: subject.instance });
        expect(managed.networks.find((network) => network.id === first.id)?.labels[LABELS.deployment]).toBe('n1');
      });

      it('removeNetwork removes it, and an absent network is success', async () => {
        const { id } = await gateway.ensureNetwork(nameFor('n2'), labelsFor('n2'));
        await gateway.removeNetwork(nameFor('n2'));
        await gateway.removeNetwork(nameFor('n2'));
        await gateway.removeNetwork(id);
        const managed = await gateway.listManaged({ [LABELS.instance]: subject.instance });
        expect(managed.networks.map((network) => network.id)).not.toContain(id);
      });

      it('ensureVolume reports creation once; removeVolume tolerates absence', async () => {
        expect(await gateway.ensureVolume(nameFor('v1'), labelsFor('v1'))).toEqual({ created: true });
        expect(await gateway.ensureVolume(nameFor('v1'), labelsFor('v1'))).toEqual({ created: false });
        expect((await gateway.listManaged({ [LABELS.instance]: subject.instance })).volumes.map((volume) => volume.name)).toContain(nameFor('v1'));
        await gateway.removeVolume(nameFor('v1'));
        await gateway.removeVolume(nameFor('v1'));
        expect((await gateway.listManaged({ [LABELS.instance]: subject.instance })).volumes.map((volume) => volume.name)).not.toContain(nameFor('v1'));
      });
    });

    describe('services', () => {
      it('creates a service whose tasks reach running, labelled and with its ports', async () => {
        await gateway.ensureVolume(nameFor('data'), labelsFor('data'));
        const spec = specFor('web', { mounts: [{ source: nameFor('data'), target: '/data' }], ports: [{ container: 80, host: 20000 + Math.floor(Math.random() * 20000) }] });
        const state = await gateway.ensureService(spec);
        expect(state).toMatchObject({ name: spec.name, image: TEST_IMAGE, replicas: 1, hasPreviousSpec: false });
        expect(state.labels[LABELS.instance]).toBe(subject.instance);
        expect(state.ports).toEqual([{ container: 80, host: spec.ports[0]?.host, protocol: 'tcp' }]);
        const status = await settle(gateway, spec.name, deploymentOf(spec));
        expect(status).toMatchObject({ phase: 'converged', running: 1, desired: 1 });
        const tasks = await gateway.listTasks(state.id);
        expect(tasks[0]).toMatchObject({ serviceId: state.id, state: 'running', desiredState: 'running', image: TEST_IMAGE });
        expect(tasks[0]?.labels[LABELS.deployment]).toBe(deploymentOf(spec));
        expect(tasks[0]?.containerId).toBeTruthy();
        await gateway.removeService(spec.name);
        expect(await gateway.inspectService(spec.name)).toBeUndefined();
      });

      it('answers undefined, [] and success for services that do not exist', async () => {
        expect(await gateway.inspectService(nameFor('ghost'))).toBeUndefined();
        expect(await gateway.listTasks(nameFor('ghost'))).toEqual([]);
        await gateway.removeService(nameFor('ghost'));
        await expect(gateway.rollbackService(nameFor('ghost'))).rejects.toSatisfy((error) => isSwarmError(error, 'NOT_FOUND'));
      });

      it('refuses host paths, extra capabilities and missing limits before the engine sees them', async () => {
        for (const unsafe of [
          specFor('unsafe', { mounts: [{ source: '/etc', target: '/host-etc' }] }),
          specFor('unsafe', { capAdd: ['SYS_ADMIN'] }),
          specFor('unsafe', { mounts: [{ source: nameFor('data2'), target: '../escape' }] }),
          specFor('unsafe', { memoryLimitBytes: 0 }),
        ]) {
          await expect(gateway.ensureService(unsafe)).rejects.toSatisfy((error) => isSwarmError(error, 'INVALID_SPEC'));
        }
        expect(await gateway.inspectService(nameFor('unsafe'))).toBeUndefined();
      });

      it('two concurrent ensureService calls for a new name end with one service', async () => {
        const [a, b] = await Promise.all([gateway.ensureService(specFor('twin')), gateway.ensureService(specFor('twin'))]);
        expect(a.id).toBe(b.id);
        const managed = await gateway.listManaged({ [LABELS.instance]: subject.instance });
        expect(managed.services.filter((service) => service.name === nameFor('twin'))).toHaveLength(1);
        await gateway.removeService(nameFor('twin'));
      });

      it('refuses to take over a service Runway does not manage', async () => {
        const foreign = specFor('foreign', { labels: { [LABELS.instance]: subject.instance } });
        await gateway.ensureService(foreign);
        await expect(gateway.ensureService(specFor('foreign'))).rejects.toSatisfy((error) => isSwarmError(error, 'CONFLICT'));
        expect((await gateway.inspectService(foreign.name))?.labels).toEqual(foreign.labels);
        await gateway.removeService(foreign.name);
      });

      it('updates a service in place, keeping its id and the previous spec', async () => {
        const first = specFor('api');
        const created = await gateway.ensureService(first);
        await settle(gateway, first.name, deploymentOf(first));
        const second = specFor('api', { command: ['sh', '-c', 'echo v2; sleep 3600'] });
        const updated = await gateway.ensureService(second);
        expect(updated.id).toBe(created.id);
        expect(updated.version).toBeGreaterThan(created.version);
        expect(updated.hasPreviousSpec).toBe(true);
        expect(await settle(gateway, second.name, deploymentOf(second))).toMatchObject({ phase: 'converged', running: 1 });
        const tasks = await gateway.listTasks(created.id);
        const running = tasks.filter((task) => task.desiredState === 'running');
        expect(running.map((task) => task.labels[LABELS.deployment])).toEqual([deploymentOf(second)]);

        await gateway.rollbackService(first.name);
        await waitFor(async () => {
          const tasksNow = await gateway.listTasks(created.id);
          return tasksNow.some((task) => task.state === 'running' && task.labels[LABELS.deployment] === deploymentOf(first)) ? true : undefined;
        }, 30_000, 'manual rollback to the first version');
        expect((await gateway.inspectService(first.name))?.labels[LABELS.deployment]).toBe(deploymentOf(first));
        await gateway.removeService(first.name);
      });

      it('restartService replaces the running task with a fresh one of the same spec', async () => {
        const spec = specFor('restart');
        const created = await gateway.ensureService(spec);
        await settle(gateway, spec.name, deploymentOf(spec));
        const before = (await gateway.listTasks(created.id)).find((task) => task.desiredState === 'running');
        await gateway.restartService(spec.name);
        const after = await waitFor(async () => {
          const task = (await gateway.listTasks(created.id)).find((t) => t.desiredState === 'running' && t.state === 'running');
          return task && task.id !== before?.id ? task : undefined;
        }, 30_000, 'a fresh task after restartService');
        expect(after.labels[LABELS.deployment]).toBe(deploymentOf(spec));
        await expect(gateway.restartService('rw-no-such-service')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await gateway.removeService(spec.name);
      });

      it('rolls a failing update back, and the previous version keeps running', async () => {
        const good = specFor('shop');
        await gateway.ensureService(good);
        await settle(gateway, good.name, deploymentOf(good));
        const bad = specFor('shop', { command: ['sh', '-c', 'echo broken; exit 3'] });
        await gateway.ensureService(bad);
        const status = await settle(gateway, bad.name, deploymentOf(bad), 60_000);
        expect(status.phase).toBe('failed');
        expect(status.reason).toMatch(/roll|non-zero exit \(3\)/);
        const restored = await waitFor(async () => {
          const service = await gateway.inspectService(good.name);
          return service?.updateState === 'rollback_completed' ? service : undefined;
        }, 60_000, 'rollback to complete');
        expect(restored.labels[LABELS.deployment]).toBe(deploymentOf(good));
        await waitFor(async () => {
          const tasks = await gateway.listTasks(restored.id);
          return tasks.some((task) => task.state === 'running' && task.labels[LABELS.deployment] === deploymentOf(good)) ? true : undefined;
        }, 30_000, 'previous version running');
        await gateway.removeService(good.name);
      });

      it('a crashing command fails with the task error after the restart attempts', async () => {
        const spec = specFor('crash', { command: ['sh', '-c', 'echo dying; exit 3'] });
        await gateway.ensureService(spec);
        const status = await settle(gateway, spec.name, deploymentOf(spec), 60_000);
        expect(status).toMatchObject({ phase: 'failed', running: 0 });
        expect(status.reason).toContain('non-zero exit (3)');
        await gateway.removeService(spec.name);
      });

      it('a failing health check fails the service; a passing one reports healthy', async () => {
        const healthy = specFor('healthy', { healthcheck: { test: ['CMD-SHELL', 'exit 0'], intervalMs: 500, timeoutMs: 1000, retries: 1 } });
        const sick = specFor('sick', { healthcheck: { test: ['CMD-SHELL', 'exit 1'], intervalMs: 500, timeoutMs: 1000, retries: 1 } });
        const [healthyState] = await Promise.all([gateway.ensureService(healthy), gateway.ensureService(sick)]);
        expect(await settle(gateway, healthy.name, deploymentOf(healthy))).toMatchObject({ phase: 'converged' });
        const tasks = await gateway.listTasks(healthyState.id);
        expect(tasks.find((task) => task.state === 'running')?.health).toBe('healthy');
        const status = await settle(gateway, sick.name, deploymentOf(sick), 90_000);
        expect(status.phase).toBe('failed');
        expect(status.reason).toMatch(/unhealthy/);
        await Promise.all([gateway.removeService(healthy.name), gateway.removeService(sick.name)]);
      });

      it('a service on an image that exists nowhere fails with the engine reason', async () => {
        const spec = specFor('noimage', { image: `local/rwt-missing-${subject.instance}:1` });
        await gateway.ensureService(spec);
        const status = await settle(gateway, spec.name, deploymentOf(spec), 90_000);
        expect(status.phase).toBe('failed');
        expect(status.reason).toMatch(/No such image|pull access denied|not found/i);
        await gateway.removeService(spec.name);
      });

      it('removeNetwork waits for nothing once its services are gone', async () => {
        const { id } = await gateway.ensureNetwork(nameFor('n3'), labelsFor('n3'));
        const spec = specFor('onn3', { networkId: id });
        await gateway.ensureService(spec);
        await settle(gateway, spec.name, deploymentOf(spec));
        await gateway.removeService(spec.name);
        await gateway.removeNetwork(id);
        const managed = await gateway.listManaged({ [LABELS.instance]: subject.instance });
        expect(managed.networks.map((network) => network.id)).not.toContain(id);
      });
    });

    describe('images', () => {
      it('knows local images and fails pulls of images that exist nowhere', async () => {
        expect(await gateway.imageExists(TEST_IMAGE)).toBe(true);
        const missing = `local/rwt-missing-${subject.instance}:1`;
        expect(await gateway.imageExists(missing)).toBe(false);
        await expect(gateway.pullImage(missing)).rejects.toSatisfy((error) => isSwarmError(error, 'IMAGE_PULL_FAILED'));
      });

      it('pulls from a registry; a pull failing inside its 200 stream is IMAGE_PULL_FAILED', async () => {
        await gateway.pullImage(subject.pullable);
        expect(await gateway.imageExists(subject.pullable)).toBe(true);
        await gateway.removeImage(subject.pullable);
        expect(await gateway.imageExists(subject.pullable)).toBe(false);
        await expect(gateway.pullImage(subject.brokenPull)).rejects.toSatisfy((error) => isSwarmError(error, 'IMAGE_PULL_FAILED'));
        expect(await gateway.imageExists(subject.brokenPull)).toBe(false);
      });

      it('builds from a tar context, reports its output, and removes the image', async () => {
        const tag = `local/rwt-${subject.instance}-built:1`;
        const seen: string[] = [];
        const result = await gateway.buildImage(tarContext({ 'build/Dockerfile': `FROM ${TEST_IMAGE}\nRUN echo building-step\n` }), {
          tag, dockerfile: 'build/Dockerfile', labels: labelsFor('build'), onLog: (line) => seen.push(line),
        });
        expect(result.image).toBe(tag);
        expect(result.log.join('\n')).toContain('building-step');
        expect(seen.join('\n')).toContain('building-step');
        expect(await gateway.imageExists(tag)).toBe(true);
        await gateway.removeImage(tag);
        await gateway.removeImage(tag);
        expect(await gateway.imageExists(tag)).toBe(false);
      });

      it('surfaces a failing build step as BUILD_FAILED with the last lines', async () => {
        const tag = `local/rwt-${subject.instance}-broken:1`;
        const error = await gateway
          .buildImage(tarContext({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo before-failure; exit 7\n` }), { tag, dockerfile: 'Dockerfile', labels: labelsFor('build') })
          .then(() => undefined, (caught: unknown) => caught);
        expect(isSwarmError(error, 'BUILD_FAILED')).toBe(true);
        expect((error as Error).message).toContain('returned a non-zero code: 7');
        expect(((error as { details: { log: string[] } }).details.log ?? []).join('\n')).toContain('before-failure');
        expect(await gateway.imageExists(tag)).toBe(false);
      });

      it('fails a build whose Dockerfile is missing', async () => {
        const tag = `local/rwt-${subject.instance}-nofile:1`;
        await expect(gateway.buildImage(tarContext({ 'README.md': 'hi' }), { tag, dockerfile: 'Dockerfile', labels: labelsFor('build') })).rejects.toSatisfy((error) =>
          isSwarmError(error, 'BUILD_FAILED'),
        );
      });
    });

    describe('logs', () => {
      it('demultiplexes stdout and stderr, tail and follow, and follow stops on abort', async () => {
        const spec = specFor('logs', { command: ['sh', '-c', 'echo hello-out; echo hello-err >&2; sleep 3600'] });
        const state = await gateway.ensureService(spec);
        await settle(gateway, spec.name, deploymentOf(spec));
        const tail = await waitFor(async () => {
          const lines = await collect(gateway.serviceLogs(state.id, { tail: 10, follow: false }), () => false);
          return lines.length >= 2 ? lines : undefined;
        }, 20_000, 'logs to appear');
        expect(tail).toEqual(expect.arrayContaining([{ stream: 'stdout', line: 'hello-out' }, { stream: 'stderr', line: 'hello-err' }]));

        const abort = new AbortController();
        const started = Date.now();
        const followed = await collect(gateway.serviceLogs(state.id, { tail: 10, follow: true, timestamps: true }, abort.signal), (seen) => seen.length >= 2, abort);
        expect(followed.every((line) => typeof line.timestamp === 'string')).toBe(true);
        expect(Date.now() - started).toBeLessThan(10_000);

        // An aborted follow ends by itself.
        const idle = new AbortController();
        const idleLines = collect(gateway.serviceLogs(state.id, { tail: 0, follow: true }, idle.signal), () => false);
        setTimeout(() => idle.abort(), 300);
        expect(await idleLines).toEqual([]);
        await gateway.removeService(spec.name);
      });

      it('keeps following when Swarm replaces the task', async () => {
        const first = specFor('relay', { command: ['sh', '-c', 'echo first-version; sleep 3600'] });
        const state = await gateway.ensureService(first);
        await settle(gateway, first.name, deploymentOf(first));
        const abort = new AbortController();
        const following = collect(gateway.serviceLogs(state.id, { tail: 10, follow: true }, abort.signal), (seen) => seen.some((line) => line.line === 'second-version'), abort);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const second = specFor('relay', { command: ['sh', '-c', 'echo second-version; sleep 3600'] });
        await gateway.ensureService(second);
        const timer = setTimeout(() => abort.abort(), 30_000);
        const lines = await following;
        clearTimeout(timer);
        expect(lines.map((line) => line.line)).toEqual(expect.arrayContaining(['first-version', 'second-version']));
        await gateway.removeService(first.name);
      });

      it('ends a follow when the service is removed', async () => {
        const spec = specFor('gone', { command: ['sh', '-c', 'echo still-here; sleep 3600'] });
        const state = await gateway.ensureService(spec);
        await settle(gateway, spec.name, deploymentOf(spec));
        const started = Date.now();
        const following = collect(gateway.serviceLogs(state.id, { tail: 10, follow: true }), () => false);
        setTimeout(() => void gateway.removeService(state.id), 500);
        await following;
        expect(Date.now() - started).toBeLessThan(10_000);
      });
    });

    it('lists managed objects by label', async () => {
      const spec = specFor('listed');
      const state = await gateway.ensureService(spec);
      const managed = await gateway.listManaged({ [LABELS.instance]: subject.instance });
      expect(managed.services.map((service) => service.id)).toContain(state.id);
      expect(managed.networks.map((network) => network.id)).toContain(networkId);
      const other = await gateway.listManaged({ [LABELS.instance]: `${subject.instance}-other` });
      expect(other.services).toEqual([]);
      await gateway.removeService(spec.name);
    });
  });
}
