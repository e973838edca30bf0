import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/docker/swarm-gateway.js';
import { createUserWithKey } from '../support/api-keys.js';
import { fetchText, httpdCommand, randomHostPort, startHarness, type Harness } from './support/deployment-harness.js';

describe('image deployments against the real swarm', () => {
  let h: Harness;
  let env: { id: string; networkName: string };
  const port = randomHostPort();
  let first: { jobId: string; deploymentId: string };

  beforeAll(async () => {
    h = await startHarness('dep_image');
    env = await h.createEnvironment('shop');
  });
  afterAll(async () => h?.stop());

  it('answers 202 with a PENDING job and reaches RUNNING with every transition stored and published', async () => {
    const response = await h.deployImage({
      environmentId: env.id, name: 'web', command: httpdCommand('v1'),
      ports: [{ container: 8080, host: port }], envVars: { GREETING: 'hello-secret-value' },
      volumes: [{ name: 'data', mountPath: '/data' }],
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'PENDING' });
    expect(response.body.jobId).toMatch(/^[0-9a-z]{16}$/);
    first = response.body;

    const done = await h.waitForJob(first.jobId);
    expect(done.status, done.errorMessage).toBe('RUNNING');
    expect(done.transitions.map((t: { to: string }) => t.to)).toEqual(['PENDING', 'PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS', 'RUNNING']);
    for (const t of done.transitions) expect(Number.isNaN(Date.parse(t.at))).toBe(false);
    expect(done.envVarNames).toEqual(['GREETING']);
    expect(JSON.stringify(done)).not.toContain('hello-secret-value');

    const events = (await h.redis.xrange(`${h.prefix}:events`, '-', '+'))
      .map(([, fields]) => JSON.parse(fields[1]!))
      .filter((event) => event.deploymentId === first.deploymentId);
    expect(events.map((event) => event.state)).toEqual(['PENDING', 'PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS', 'RUNNING']);
    expect(events.at(-1)).toMatchObject({
      type: 'deployment.state', ownerId: h.owner.user.id, environmentName: 'shop', serviceName: 'web', source: 'local/busybox:1', fromState: 'STARTING_CONTAINERS',
    });
  });

  it('serves on its host port, with labelled service, volume and network', async () => {
    expect(await fetchText(`http://127.0.0.1:${port}/`)).toBe('v1');
    const managed = await h.gateway.listManaged({ [LABELS.instance]: h.prefix });
    const service = managed.services.find((s) => s.labels[LABELS.deployment] === first.deploymentId);
    expect(service?.labels).toMatchObject({ [LABELS.user]: h.owner.user.id, [LABELS.environment]: env.id, [LABELS.managed]: 'true' });
    expect(managed.volumes.map((v) => v.name)).toEqual([`rw-vol-${env.id}-data`]);
    expect(managed.networks.map((n) => n.name)).toContain(env.networkName);
    const volume = await h.db.db.volume.findFirst({ where: { environmentId: env.id } });
    expect(volume).toMatchObject({ name: 'data', createdByDeploymentId: first.deploymentId });
  });

  it('answers 409 naming the deployment that holds a host port, creating nothing', async () => {
    const before = await h.db.db.deployment.count();
    const response = await h.deployImage({ environmentId: env.id, name: 'other', command: httpdCommand('x'), ports: [{ container: 8080, host: port }] });
    expect(response.status).toBe(409);
    expect(response.body.error.message).toContain(first.jobId);
    expect(response.body.error.details).toMatchObject({ jobId: first.jobId, service: 'web', port: `${port}/tcp` });
    expect(await h.db.db.deployment.count()).toBe(before);
  });

  it('tails the logs as JSON lines and follows them as Server-Sent Events until the client leaves', async () => {
    const tail = await fetch(`${h.url}/deployments/${first.deploymentId}/logs?tail=10`, { headers: { 'x-api-key': h.owner.apiKey } });
    expect(tail.status).toBe(200);
    expect(tail.headers.get('content-type')).toContain('application/x-ndjson');
    await tail.text();

    const abort = new AbortController();
    const sse = await fetch(`${h.url}/deployments/${first.jobId}/logs?follow=true&tail=5`, { headers: { 'x-api-key': h.owner.apiKey }, signal: abort.signal });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    // httpd writes nothing per request; the stream stays open until we leave.
    const reader = sse.body!.getReader();
    const pending = reader.read();
    const raced = await Promise.race([pending.then(() => 'data'), new Promise((resolve) => setTimeout(() => resolve('open'), 500))]);
    expect(['open', 'data']).toContain(raced);
    abort.abort();
    await pending.catch(() => undefined);
  });

  it('lists the environment history newest first and hides it from another user (404)', async () => {
    const second = await h.deployImage({ environmentId: env.id, name: 'worker', command: ['sleep', '3600'] });
    expect(second.status).toBe(202);
    await h.waitForJob(second.body.jobId);
    const list = await h.api('GET', `/deployments/environment/${env.id}`);
    expect(list.status).toBe(200);
    expect(list.body.map((d: { jobId: string }) => d.jobId)).toEqual([second.body.jobId, first.jobId]);

    const stranger = await createUserWithKey(h.db.db, { scopes: ['ENVIRONMENTS_READ', 'DEPLOYMENTS_READ', 'DEPLOYMENTS_WRITE', 'LOGS_READ'] });
    expect((await h.api('GET', `/environments/${env.id}`, undefined, stranger.apiKey)).status).toBe(404);
    expect((await h.api('GET', `/deployments/job/${first.jobId}`, undefined, stranger.apiKey)).status).toBe(404);
    expect((await h.api('GET', `/deployments/environment/${env.id}`, undefined, stranger.apiKey)).status).toBe(404);
    expect((await h.api('GET', `/deployments/${first.deploymentId}/logs`, undefined, stranger.apiKey)).status).toBe(404);
    expect((await h.api('DELETE', `/deployments/${first.deploymentId}`, undefined, stranger.apiKey)).status).toBe(404);
    expect((await h.deployImage({ environmentId: env.id, command: ['sleep', '1'] }, stranger.apiKey)).status).toBe(404);
  });

  it('deletes a deployment: the service is removed and the deployment is STOPPED', async () => {
    const response = await h.api('DELETE', `/deployments/${first.deploymentId}`);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('STOPPED');
    const service = await h.db.db.service.findFirst({ where: { environmentId: env.id, name: 'web' } });
    expect(await h.gateway.inspectService(service!.swarmName)).toBeUndefined();
    // The port is free again.
    const again = await h.deployImage({ environmentId: env.id, name: 'other', command: httpdCommand('v9'), ports: [{ container: 8080, host: port }] });
    expect(again.status).toBe(202);
    expect((await h.waitForJob(again.body.jobId)).status).toBe('RUNNING');
  });
});
