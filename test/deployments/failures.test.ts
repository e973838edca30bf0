import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImage } from '../../src/core/deployments/image-pull.js';
import { LABELS } from '../../src/docker/swarm-gateway.js';
import { TEST_IMAGE } from '../support/services.js';
import { startHarness, type Harness } from './support/deployment-harness.js';

describe('failing deployments end FAILED with their reason and leave nothing behind', () => {
  let h: Harness;
  let env: { id: string };

  beforeAll(async () => {
    h = await startHarness('dep_fail', { SERVICE_CONVERGE_TIMEOUT_MS: '40000' });
    env = await h.createEnvironment('broken');
  });
  afterAll(async () => h?.stop());

  async function expectNothingLeft(deploymentId: string) {
    const managed = await h.gateway.listManaged({ [LABELS.deployment]: deploymentId });
    expect(managed.services).toEqual([]);
    expect(managed.volumes).toEqual([]);
    expect(await h.db.db.volume.count({ where: { createdByDeploymentId: deploymentId } })).toBe(0);
  }

  it('an image that exists nowhere', async () => {
    const started = await h.deployImage({ environmentId: env.id, name: 'ghost', image: 'runway-test/does-not-exist', tag: '1', volumes: [{ name: 'ghostdata', mountPath: '/d' }] });
    expect(started.status).toBe(202);
    const done = await h.waitForJob(started.body.jobId);
    expect(done.status).toBe('FAILED');
    expect(done.errorMessage).toContain('runway-test/does-not-exist:1 could not be pulled and does not exist on this host');
    expect(done.transitions.map((t: { to: string }) => t.to)).toEqual(['PENDING', 'PULLING_IMAGE', 'FAILED']);
    await expectNothingLeft(started.body.deploymentId);
  });

  it('a command that crashes, keeping its last log lines (env var values masked) after the service is gone', async () => {
    const started = await h.deployImage({
      environmentId: env.id, name: 'crash', volumes: [{ name: 'crashdata', mountPath: '/d' }],
      envVars: { DB_PASSWORD: 'hunter2-s3cret', MODE: 'on' },
      command: ['sh', '-c', 'echo "boom: config missing (pw=$DB_PASSWORD)"; echo "on stderr" >&2; exit 3'],
    });
    const done = await h.waitForJob(started.body.jobId);
    expect(done.status).toBe('FAILED');
    expect(done.errorMessage).toMatch(/non-zero exit \(3\)|exit code 3/);
    expect(done.logTail).toEqual(expect.arrayContaining(['boom: config missing (pw=[redacted])', 'on stderr']));
    expect(JSON.stringify(done)).not.toContain('hunter2-s3cret');
    const stored = await h.db.db.deployment.findUniqueOrThrow({ where: { id: started.body.deploymentId } });
    expect(stored.logTail).toContain('boom: config missing');
    expect(stored.logTail).not.toContain('hunter2-s3cret');
    expect(done.transitions.map((t: { to: string }) => t.to)).toContain('STARTING_CONTAINERS');
    await expectNothingLeft(started.body.deploymentId);
  });

  it('a health check that keeps failing', async () => {
    const started = await h.deployImage({
      environmentId: env.id, name: 'sick', command: ['sleep', '3600'],
      healthcheck: { test: ['CMD', 'false'], intervalSeconds: 1, timeoutSeconds: 1, retries: 1 },
    });
    const done = await h.waitForJob(started.body.jobId);
    expect(done.status).toBe('FAILED');
    expect(done.errorMessage).toMatch(/unhealthy|health/i);
    await expectNothingLeft(started.body.deploymentId);
  });

  it('keeps a first deployment that failed when asked to, for debugging', async () => {
    const started = await h.deployImage({ environmentId: env.id, name: 'keep', command: ['sh', '-c', 'exit 1'], keepOnFailure: true });
    const done = await h.waitForJob(started.body.jobId);
    expect(done.status).toBe('FAILED');
    const managed = await h.gateway.listManaged({ [LABELS.deployment]: started.body.deploymentId });
    expect(managed.services).toHaveLength(1);
  });

  it('pull policy: a failed pull of an image that exists locally goes on; one that exists nowhere fails', async () => {
    const note = await ensureImage(h.gateway, TEST_IMAGE, 'always');
    expect(note).toContain('using the local image');
    await expect(ensureImage(h.gateway, 'runway-test/nowhere:2', 'always')).rejects.toThrow(/could not be pulled and does not exist/);
    await expect(ensureImage(h.gateway, 'runway-test/nowhere:2', 'never')).rejects.toThrow(/pull policy is "never"/);
    expect(await ensureImage(h.gateway, TEST_IMAGE, 'missing')).toBeUndefined();
  });
});
