import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/docker/docker-client.js';
import { LABELS } from '../../src/docker/swarm-gateway.js';
import { createLogger } from '../../src/logging/logger.js';
import { createDeploymentFeature } from '../../src/queue/deployment-module.js';
import { createUserWithKey } from '../support/api-keys.js';
import { startHarness, type Harness } from '../deployments/support/deployment-harness.js';

describe('environments', () => {
  let h: Harness;
  const docker = createDockerClient();

  beforeAll(async () => {
    h = await startHarness('env_crud');
  });
  afterAll(async () => h?.stop());

  it('creates one attachable overlay network per environment, labelled with owner and environment (201)', async () => {
    const response = await h.api('POST', '/environments', { name: 'staging' });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'staging', networkName: `rw-env-${response.body.id}` });
    const network = await docker.getNetwork(response.body.networkId).inspect();
    expect(network).toMatchObject({ Driver: 'overlay', Attachable: true, Scope: 'swarm' });
    expect(network.Labels).toMatchObject({ [LABELS.user]: h.owner.user.id, [LABELS.environment]: response.body.id, [LABELS.instance]: h.prefix });
  });

  it('names are unique per user (409) but another user may reuse one', async () => {
    const again = await h.api('POST', '/environments', { name: 'staging' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    const other = await createUserWithKey(h.db.db, { scopes: ['ENVIRONMENTS_READ', 'ENVIRONMENTS_WRITE'] });
    const theirs = await h.api('POST', '/environments', { name: 'staging' }, other.apiKey);
    expect(theirs.status).toBe(201);
    const mine = await h.api('GET', '/environments');
    expect(mine.body.map((env: { name: string }) => env.name)).toEqual(['staging']);
    expect((await h.api('GET', `/environments/${theirs.body.id}`)).status).toBe(404);
    expect((await h.api('DELETE', `/environments/${theirs.body.id}`)).status).toBe(404);
  });

  it('GET /environments/:id shows its services and domains', async () => {
    const env = await h.createEnvironment('detail');
    const started = await h.deployImage({ environmentId: env.id, name: 'db', command: ['sleep', '3600'] });
    await h.waitForJob(started.body.jobId);
    const detail = await h.api('GET', `/environments/${env.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.services).toEqual([expect.objectContaining({ name: 'db', status: 'RUNNING', jobId: started.body.jobId, image: 'local/busybox:1' })]);
    expect(detail.body.domains).toEqual([]);
  });

  it('DELETE removes services (deployments STOPPED), the network, and volumes only when asked', async () => {
    const env = await h.createEnvironment('doomed');
    const started = await h.deployImage({ environmentId: env.id, name: 'store', command: ['sleep', '3600'], volumes: [{ name: 'keepme', mountPath: '/data' }] });
    expect((await h.waitForJob(started.body.jobId)).status).toBe('RUNNING');
    const deleted = await h.api('DELETE', `/environments/${env.id}`);
    expect(deleted.status).toBe(204);
    const managed = await h.gateway.listManaged({ [LABELS.environment]: env.id });
    expect(managed.services).toEqual([]);
    expect(managed.networks).toEqual([]);
    expect(managed.volumes.map((volume) => volume.name)).toEqual([`rw-vol-${env.id}-keepme`]);
    expect((await h.api('GET', `/environments/${env.id}`)).status).toBe(404);
    const events = (await h.redis.xrange(`${h.prefix}:events`, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!));
    expect(events.filter((e) => e.deploymentId === started.body.deploymentId).at(-1)).toMatchObject({ state: 'STOPPED', reason: 'environment deleted' });
    await h.gateway.removeVolume(`rw-vol-${env.id}-keepme`);

    const env2 = await h.createEnvironment('doomed2');
    const second = await h.deployImage({ environmentId: env2.id, name: 'store', command: ['sleep', '3600'], volumes: [{ name: 'dropme', mountPath: '/data' }] });
    expect((await h.waitForJob(second.body.jobId)).status).toBe('RUNNING');
    expect((await h.api('DELETE', `/environments/${env2.id}?volumes=true`)).status).toBe(204);
    expect((await h.gateway.listManaged({ [LABELS.environment]: env2.id })).volumes).toEqual([]);
  });

  it('runs the deletion hooks (HTTPS route removal) with the environment and its domains before rows go', async () => {
    const config = h.runway.runtime.infra.config;
    const feature = createDeploymentFeature({
      config, db: h.db.db, connection: h.redis, events: { publish: async () => undefined },
      logger: createLogger({ level: 'silent' }), gateway: h.gateway, buildImage: async () => { throw new Error('unused'); },
    });
    const seen: { name: string; domains: number; rowExists: boolean }[] = [];
    feature.hooks.onDeleting(async (env) => {
      seen.push({ name: env.name, domains: env.domains.length, rowExists: (await h.db.db.environment.count({ where: { id: env.id } })) === 1 });
    });
    const principal = { userId: h.owner.user.id, role: 'USER' as const, scopes: ['ENVIRONMENTS_WRITE' as const] };
    const env = await feature.environments.create(principal, { name: 'hooked' });
    await feature.environments.delete(principal, env.id);
    expect(seen).toEqual([{ name: 'hooked', domains: 0, rowExists: true }]);
    await feature.queue.close();
  });
});
