import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText, httpdCommand, randomHostPort, startHarness, type Harness } from './support/deployment-harness.js';

describe('updates in place, failed updates and rollback', () => {
  let h: Harness;
  let env: { id: string };
  const port = randomHostPort();
  const deploy = (body: string | string[]) =>
    h.deployImage({ environmentId: env.id, name: 'api', command: Array.isArray(body) ? body : httpdCommand(body), ports: [{ container: 8080, host: port }] });
  type Started = { jobId: string; deploymentId: string };
  const jobs = {} as { v1: Started; v2: Started; bad: Started };

  beforeAll(async () => {
    h = await startHarness('dep_update');
    env = await h.createEnvironment('prod');
  });
  afterAll(async () => h?.stop());

  it('updates the same Swarm service in place and marks the older deployment SUPERSEDED', async () => {
    jobs.v1 = (await deploy('v1')).body;
    expect((await h.waitForJob(jobs.v1.jobId)).status).toBe('RUNNING');
    const serviceBefore = await h.db.db.service.findFirstOrThrow({ where: { environmentId: env.id, name: 'api' } });
    const swarmBefore = await h.gateway.inspectService(serviceBefore.swarmName);

    jobs.v2 = (await deploy('v2')).body;
    expect((await h.waitForJob(jobs.v2.jobId, undefined, 50_000)).status).toBe('RUNNING');
    expect(await fetchText(`http://127.0.0.1:${port}/`)).toBe('v2');
    const swarmAfter = await h.gateway.inspectService(serviceBefore.swarmName);
    expect(swarmAfter?.id).toBe(swarmBefore?.id);
    const v1 = await h.waitForJob(jobs.v1.jobId, ['SUPERSEDED'], 5_000);
    expect(v1.transitions.at(-1)).toMatchObject({ from: 'RUNNING', to: 'SUPERSEDED' });
    const service = await h.db.db.service.findFirstOrThrow({ where: { id: serviceBefore.id } });
    expect(service.currentDeploymentId).toBe(jobs.v2.deploymentId);
  });

  it('a failing new version ends FAILED with the task error while the previous version keeps serving', async () => {
    jobs.bad = (await deploy(['sh', '-c', 'echo starting; exit 1'])).body;
    const bad = await h.waitForJob(jobs.bad.jobId);
    expect(bad.status).toBe('FAILED');
    expect(bad.errorMessage).toMatch(/exit|rolled|non-zero/i);
    // The failed version's own output is kept, though the service now runs the previous version again.
    expect(bad.logTail).toContain('starting');
    // Swarm rolled the update back: the old image and command serve again.
    expect(await fetchText(`http://127.0.0.1:${port}/`, 30_000)).toBe('v2');
    const v2 = await h.api('GET', `/deployments/job/${jobs.v2.jobId}`);
    expect(v2.body.status).toBe('RUNNING');
    const service = await h.db.db.service.findFirstOrThrow({ where: { environmentId: env.id, name: 'api' } });
    expect(service.currentDeploymentId).toBe(jobs.v2.deploymentId);
  });

  it('rolls back to the previous version that ran: a new deployment and job, 202', async () => {
    // Wait for Swarm's own rollback to settle before asking for another update.
    const service = await h.db.db.service.findFirstOrThrow({ where: { environmentId: env.id, name: 'api' } });
    for (let i = 0; i < 100; i += 1) {
      const state = await h.gateway.inspectService(service.swarmName);
      if (!state?.updateState || state.updateState.endsWith('completed')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const response = await h.api('POST', `/deployments/${jobs.v2.deploymentId}/rollback`);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'PENDING', rolledBackTo: jobs.v1.jobId });
    expect(response.body.jobId).not.toBe(jobs.v1.jobId);
    const rolled = await h.waitForJob(response.body.jobId);
    expect(rolled.status, rolled.errorMessage).toBe('RUNNING');
    expect(await fetchText(`http://127.0.0.1:${port}/`)).toBe('v1');
    // The older version is marked right after the new one reads RUNNING.
    expect((await h.waitForJob(jobs.v2.jobId, ['SUPERSEDED'], 5_000)).status).toBe('SUPERSEDED');
  });

  it('answers 409 when no earlier version ran', async () => {
    const response = await h.api('POST', `/deployments/${jobs.v1.deploymentId}/rollback`);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
  });
});
