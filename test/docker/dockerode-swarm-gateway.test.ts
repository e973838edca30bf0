import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/docker/docker-client.js';
import { DockerodeSwarmGateway } from '../../src/docker/dockerode-swarm-gateway.js';
import { LABELS, type ServiceSpec } from '../../src/docker/swarm-gateway.js';
import { startFakeRegistry } from './fake-registry.js';
import { describeSwarmGatewayContract, settle, TEST_IMAGE, uniqueInstance, waitFor } from './swarm-gateway.contract.js';

const docker = createDockerClient();
/** Short monitor and restart delay keep the suite fast; production uses the defaults. */
const testPolicy = { updateMonitorMs: 2_000, restartDelayMs: 300 };

/** Removes every object carrying this instance label (services first, then networks, volumes, images). */
export async function removeInstanceObjects(instance: string): Promise<void> {
  const label = [`${LABELS.instance}=${instance}`];
  for (const service of await docker.listServices({ filters: { label } })) await docker.getService(service.ID).remove().catch(() => undefined);
  const gateway = new DockerodeSwarmGateway(docker, { removeRetryMs: 30_000 });
  for (const network of await docker.listNetworks({ filters: { label } })) await gateway.removeNetwork(network.Id).catch(() => undefined);
  for (const volume of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) await gateway.removeVolume(volume.Name).catch(() => undefined);
  for (const image of await docker.listImages({ filters: { label } })) await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
}

describeSwarmGatewayContract('dockerode (real swarm)', async () => {
  const instance = uniqueInstance();
  const registry = await startFakeRegistry(`rwt/${instance}`);
  const gateway = new DockerodeSwarmGateway(docker, { policy: testPolicy });
  return {
    gateway,
    instance,
    pullable: registry.good,
    brokenPull: registry.broken,
    cleanup: async () => {
      await registry.close();
      // Pulled images carry no labels: remove them by reference.
      await Promise.all([gateway.removeImage(registry.good), gateway.removeImage(registry.broken)]);
      await removeInstanceObjects(instance);
    },
  };
});

describe('DockerodeSwarmGateway against the engine', () => {
  const instance = uniqueInstance();
  const gateway = new DockerodeSwarmGateway(docker, { policy: testPolicy });
  const labels = (deployment: string) => ({ [LABELS.managed]: 'true', [LABELS.instance]: instance, [LABELS.deployment]: deployment });
  let networkId = '';
  const specFor = (name: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec => ({
    name: `rwt-${instance}-${name}`, image: TEST_IMAGE, labels: labels(`${name}-1`), networkId, networkAliases: [name],
    command: ['sh', '-c', 'sleep 3600'], env: {}, ports: [], mounts: [], replicas: 1, cpuLimit: 0.5, memoryLimitBytes: 96 * 1024 * 1024,
    capAdd: [], endpointMode: 'dnsrr', publishMode: 'host', stopGracePeriodMs: 1000, ...overrides,
  });

  beforeAll(async () => {
    networkId = (await gateway.ensureNetwork(`rwt-${instance}-net`, labels('net'))).id;
  });
  afterAll(() => removeInstanceObjects(instance));

  it('writes the SPEC section 3 defaults into the engine spec', async () => {
    await gateway.ensureVolume(`rwt-${instance}-vol`, labels('vol'));
    const spec = specFor('secure', { capAdd: ['net_bind_service'], mounts: [{ source: `rwt-${instance}-vol`, target: '/data' }], env: { A: 'b' } });
    const state = await gateway.ensureService(spec);
    const raw = (await docker.getService(state.id).inspect()) as { Spec: Record<string, any> };
    const template = raw.Spec.TaskTemplate;
    expect(template.ContainerSpec).toMatchObject({
      Image: TEST_IMAGE, CapabilityDrop: ['ALL'], CapabilityAdd: ['CAP_NET_BIND_SERVICE'], Env: ['A=b'], Labels: spec.labels,
      Mounts: [expect.objectContaining({ Type: 'volume', Source: `rwt-${instance}-vol`, Target: '/data' })],
    });
    expect(template.ContainerSpec.Privileged).toBeUndefined();
    expect(template.Resources.Limits).toEqual({ NanoCPUs: 500_000_000, MemoryBytes: 96 * 1024 * 1024 });
    expect(template.RestartPolicy).toMatchObject({ Condition: 'on-failure', MaxAttempts: 3, Window: 60_000_000_000 });
    expect(template.Networks).toEqual([{ Target: networkId, Aliases: ['secure'] }]);
    expect(raw.Spec.Labels).toEqual(spec.labels);
    expect(raw.Spec.UpdateConfig).toMatchObject({ Order: 'start-first', FailureAction: 'rollback', Monitor: 2_000_000_000 });
    expect(raw.Spec.RollbackConfig).toMatchObject({ Order: 'start-first' });
    expect(raw.Spec.EndpointSpec.Mode).toBe('dnsrr');
  });

  it('runs with every capability dropped except the allow-list', async () => {
    const spec = specFor('caps', { command: ['sh', '-c', 'cat /proc/self/status; sleep 3600'], capAdd: ['CHOWN'] });
    const state = await gateway.ensureService(spec);
    const status = await waitFor(async () => {
      const lines: string[] = [];
      for await (const line of gateway.serviceLogs(state.id, { tail: 100, follow: false })) lines.push(line.line);
      return lines.some((line) => line.startsWith('CapEff:')) ? lines : undefined;
    }, 30_000, 'the container to print its status');
    // CAP_CHOWN is bit 0: nothing but it may be effective.
    expect(status.find((line) => line.startsWith('CapEff:'))?.split(/\s+/)[1]).toBe('0000000000000001');
    expect(status.find((line) => line.startsWith('CapBnd:'))?.split(/\s+/)[1]).toBe('0000000000000001');
    // Engine API 1.41 ignores the service's no-new-privileges flag, so set-up
    // enforces it in the daemon (daemon.json); either way it must hold.
    expect(status.find((line) => line.startsWith('NoNewPrivs:'))?.split(/\s+/)[1]).toBe('1');
  });

  it('publishes a host-mode port and updates such a service stop-first', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const spec = specFor('www', { command: ['httpd', '-f', '-p', '80', '-h', '/'], ports: [{ container: 80, host: port }], capAdd: ['NET_BIND_SERVICE'] });
    await gateway.ensureService(spec);
    await settle(gateway, spec.name, `www-1`);
    expect(await httpStatusLine(port)).toMatch(/^HTTP\/1\.[01] \d{3}/);
    const raw = (await docker.getService(spec.name).inspect()) as { Spec: Record<string, any> };
    expect(raw.Spec.UpdateConfig.Order).toBe('stop-first');
    expect(raw.Spec.EndpointSpec.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'host' }]);
    await gateway.ensureService({ ...spec, labels: labels('www-2') });
    expect(await settle(gateway, spec.name, 'www-2')).toMatchObject({ phase: 'converged' });
    expect(await httpStatusLine(port)).toMatch(/^HTTP\/1\.[01] \d{3}/);
  });

  it('services on the network reach each other by alias (dnsrr)', async () => {
    await gateway.ensureService(specFor('backend', { command: ['httpd', '-f', '-p', '8080', '-h', '/'] }));
    const probe = 'until printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc backend 8080 | grep -q HTTP; do sleep 0.5; done; echo REACHED; sleep 3600';
    const client = await gateway.ensureService(specFor('client', { command: ['sh', '-c', probe] }));
    await waitFor(async () => {
      for await (const line of gateway.serviceLogs(client.id, { tail: 10, follow: false })) if (line.line === 'REACHED') return true;
      return undefined;
    }, 45_000, 'the client to reach the backend by name');
  });
});

/** The first line of an HTTP answer from 127.0.0.1:port, retrying until the task listens. */
async function httpStatusLine(port: number): Promise<string> {
  return waitFor(
    () =>
      new Promise<string | undefined>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        socket.setTimeout(2000, () => socket.destroy());
        socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data ? data.split('\r\n')[0] : undefined));
        socket.on('error', () => resolve(undefined));
      }),
    30_000,
    `HTTP on port ${port}`,
  );
}
