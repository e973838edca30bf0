import { describe, expect, it } from 'vitest';
import { InMemorySwarmGateway } from '../../src/docker/in-memory-swarm-gateway.js';
import { isSwarmError } from '../../src/docker/swarm-errors.js';
import { describeSwarmGatewayContract, uniqueInstance } from './swarm-gateway.contract.js';

describeSwarmGatewayContract('in-memory fake', async () => ({
  gateway: new InMemorySwarmGateway({ registryImages: ['registry.test/rwt/app:good'] }),
  instance: uniqueInstance(),
  pullable: 'registry.test/rwt/app:good',
  brokenPull: 'registry.test/rwt/app:broken',
  cleanup: async () => undefined,
}));

describe('InMemorySwarmGateway knobs', () => {
  it('pulls images the fake registry holds', async () => {
    const gateway = new InMemorySwarmGateway({ registryImages: ['nginx:1.27'] });
    expect(await gateway.imageExists('nginx:1.27')).toBe(false);
    await gateway.pullImage('nginx:1.27');
    expect(await gateway.imageExists('nginx:1.27')).toBe(true);
  });

  it('fails every call while the engine is down', async () => {
    const gateway = new InMemorySwarmGateway();
    gateway.engineDown = true;
    await expect(gateway.inspectService('x')).rejects.toSatisfy((error) => isSwarmError(error, 'ENGINE_ERROR'));
  });

  it('refuses to remove a network a service still uses, after the retry bound', async () => {
    const gateway = new InMemorySwarmGateway({ removeRetryMs: 50 });
    const { id } = await gateway.ensureNetwork('n', {});
    await gateway.ensureService({
      name: 's', image: 'local/busybox:1', labels: {}, networkId: id, networkAliases: [], env: {}, ports: [], mounts: [], replicas: 1,
      cpuLimit: 1, memoryLimitBytes: 1 << 26, capAdd: [], endpointMode: 'dnsrr', publishMode: 'host',
    });
    await expect(gateway.removeNetwork(id)).rejects.toSatisfy((error) => isSwarmError(error, 'IN_USE'));
  });
});
