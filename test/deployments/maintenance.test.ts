import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/docker/swarm-gateway.js';
import { createDockerClient } from '../../src/docker/docker-client.js';
import { DockerodeSwarmGateway } from '../../src/docker/dockerode-swarm-gateway.js';
import { createLogger } from '../../src/logging/logger.js';
import { createDeploymentFeature } from '../../src/queue/deployment-module.js';
import { createUserWithKey } from '../support/api-keys.js';
import { TEST_IMAGE, TEST_REDIS_URL } from '../support/services.js';
import { testConfig } from '../support/test-config.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { ALL_SCOPES, removeLabelled } from './support/deployment-harness.js';

describe('nothing stuck, nothing left behind', () => {
  let db: TestDatabase;
  let redis: Redis;
  let feature: ReturnType<typeof createDeploymentFeature>;
  const prefix = uniquePrefix('dep_maint').replace(/:/g, '-');
  const gateway = new DockerodeSwarmGateway(createDockerClient());
  let principal: { userId: string; role: 'USER'; scopes: typeof ALL_SCOPES };
  let env: { id: string; networkId: string | null; networkName: string };

  beforeAll(async () => {
    db = await createTestDatabase('dep_maint');
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const config = testConfig({ DATABASE_URL: db.url, REDIS_PREFIX: prefix, DEPLOY_TIMEOUT_MS: '60000' });
    feature = createDeploymentFeature({
      config, db: db.db, connection: redis, events: { publish: async () => undefined }, logger: createLogger({ level: 'silent' }), gateway,
      buildImage: async () => { throw new Error('unused'); },
    });
    const owner = await createUserWithKey(db.db, { scopes: ALL_SCOPES });
    principal = { userId: owner.user.id, role: 'USER', scopes: ALL_SCOPES };
    env = await feature.environments.create(principal, { name: 'maint' });
  });
  afterAll(async () => {
    await feature.queue.queue.obliterate({ force: true }).catch(() => undefined);
    await feature.queue.close();
    await removeLabelled(gateway, prefix);
    redis.disconnect();
    await db.drop();
  });

  const start = (name: string) =>
    feature.starter.start(principal, { source: 'IMAGE', environmentId: env.id, image: TEST_IMAGE, name, command: ['sleep', '3600'] });

  it('the watchdog fails deployments older than DEPLOY_TIMEOUT_MS, and only those', async () => {
    const old = await start('slow');
    const fresh = await start('fresh');
    await db.db.deployment.update({ where: { id: old.deploymentId }, data: { createdAt: new Date(Date.now() - 61_000) } });
    expect(await feature.maintenance.failOverdue()).toBe(1);
    const failed = await feature.deployments.get(principal, old.deploymentId);
    expect(failed.status).toBe('FAILED');
    expect(failed.errorMessage).toBe('it did not finish within 60s');
    expect((await feature.deployments.get(principal, fresh.deploymentId)).status).toBe('PENDING');
    await feature.deployments.delete(principal, fresh.deploymentId);
  });

  it('start-up reconciliation re-enqueues lost jobs, leaves queued ones, fails RUNNING ones whose service vanished', async () => {
    const queued = await start('queued');
    const lost = await start('lost');
    await (await feature.queue.queue.getJob(lost.jobId))!.remove();
    const ghost = await start('ghost');
    await db.db.deployment.update({ where: { id: ghost.deploymentId }, data: { status: 'RUNNING' } });

    const result = await feature.maintenance.reconcile();
    expect(await feature.queue.jobState(lost.jobId)).toBe('waiting');
    expect(await feature.queue.jobState(queued.jobId)).toBe('waiting');
    expect((await feature.deployments.get(principal, ghost.deploymentId)).status).toBe('FAILED');
    expect((await feature.deployments.get(principal, ghost.deploymentId)).errorMessage).toContain('no longer exists');
    expect(result.requeued).toBeGreaterThanOrEqual(1);
  });

  it('the scheduled clean-up removes labelled Docker objects no row owns and keeps owned ones', async () => {
    const labels = { [LABELS.managed]: 'true', [LABELS.instance]: prefix, [LABELS.environment]: 'gone-env' };
    const strayNetwork = await gateway.ensureNetwork(`rw-env-stray-${prefix}`, labels);
    const stray = await gateway.ensureService({
      name: `rw-svc-stray-${prefix}`, image: TEST_IMAGE, labels, networkId: strayNetwork.id, networkAliases: ['stray'], command: ['sleep', '3600'],
      env: {}, ports: [], mounts: [], replicas: 1, cpuLimit: 0.1, memoryLimitBytes: 16 * 1024 * 1024, capAdd: [], endpointMode: 'dnsrr', publishMode: 'host',
    });
    const removed = await feature.maintenance.removeOrphans();
    expect(removed.services).toBeGreaterThanOrEqual(1);
    expect(await gateway.inspectService(stray.id)).toBeUndefined();
    const networks = (await gateway.listManaged({ [LABELS.instance]: prefix })).networks.map((n) => n.name);
    expect(networks).not.toContain(`rw-env-stray-${prefix}`);
    expect(networks).toContain(env.networkName);
  });
});
