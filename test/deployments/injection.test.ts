import { existsSync } from 'node:fs';
import { Queue } from 'bullmq';
import { DEPLOYMENT_QUEUE } from '../../src/queue/deployment-jobs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/docker/swarm-gateway.js';
import { startHarness, type Harness } from './support/deployment-harness.js';

const MARKER = `/tmp/runway-injection-${process.pid}`;

describe('an injection corpus answers 400 and runs nothing', () => {
  let h: Harness;
  let env: { id: string };

  beforeAll(async () => {
    h = await startHarness('dep_inject');
    env = await h.createEnvironment('target');
  });
  afterAll(async () => h?.stop());

  const imageCases: [string, Record<string, unknown>, string][] = [
    ['image with a shell command', { image: `nginx; touch ${MARKER}` }, 'body.image'],
    ['image with command substitution', { image: `$(touch ${MARKER})` }, 'body.image'],
    ['tag with a space', { image: 'nginx', tag: '1.27 --privileged' }, 'body.tag'],
    ['mount path escaping upwards', { volumes: [{ name: 'v', mountPath: '../../etc' }] }, 'body.volumes.0.mountPath'],
    ['absolute mount path with ..', { volumes: [{ name: 'v', mountPath: '/data/../../etc' }] }, 'body.volumes.0.mountPath'],
    ['env name with a space', { envVars: { 'A B': 'x' } }, 'body.envVars'],
    ['env name with =', { envVars: { 'A=B': 'x' } }, 'body.envVars'],
    ['service name not a DNS label', { name: 'Web_App;rm' }, 'body.name'],
    ['port out of range', { ports: [{ container: 70000 }] }, 'body.ports.0.container'],
    ['host bind mount', { volumes: [{ name: '/etc', mountPath: '/host' }] }, 'body.volumes.0.name'],
    ['unknown field (privileged)', { privileged: true }, 'body'],
    ['too much memory', { memoryLimit: 10_000_000 }, 'body.memoryLimit'],
    ['too many replicas', { replicas: 1000 }, 'body.replicas'],
  ];

  it.each(imageCases)('POST /deployments: %s', async (_label, body, path) => {
    const response = await h.api('POST', '/deployments', { environmentId: env.id, image: 'local/busybox:1', ...body });
    expect(response.status).toBe(400);
    expect(Object.keys(response.body.error).sort()).toEqual(['code', 'details', 'message', 'retryable', 'suggestions']);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details.issues.map((issue: { path: string }) => issue.path).join(' ')).toContain(path);
  });

  const gitCases: [string, Record<string, unknown>][] = [
    ['ext:: transport', { repoUrl: `ext::sh -c touch% ${MARKER}` }],
    ['option-looking URL', { repoUrl: '--upload-pack=touch /tmp/x' }],
    ['branch as an option', { repoUrl: 'https://example.com/r.git', branch: `--upload-pack=touch ${MARKER}` }],
    ['commit that is not hex', { repoUrl: 'https://example.com/r.git', commitSha: '$(id)' }],
    ['dockerfile outside the repository', { repoUrl: 'https://example.com/r.git', dockerfile: '../../etc/passwd' }],
    ['unsupported scheme', { repoUrl: 'http://example.com/r.git' }],
  ];

  it.each(gitCases)('POST /deployments/from-git: %s', async (_label, body) => {
    const response = await h.api('POST', '/deployments/from-git', { environmentId: env.id, ...body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('an environment name that is not a DNS label answers 400', async () => {
    for (const name of ['Prod', 'a b', '-x', 'x'.repeat(64), '../etc']) {
      expect((await h.api('POST', '/environments', { name })).status).toBe(400);
    }
  });

  it('nothing was created or run', async () => {
    expect(await h.db.db.deployment.count()).toBe(0);
    expect(await h.db.db.service.count()).toBe(0);
    const managed = await h.gateway.listManaged({ [LABELS.instance]: h.prefix });
    expect(managed.services).toEqual([]);
    expect(managed.volumes).toEqual([]);
    const queue = new Queue(DEPLOYMENT_QUEUE, { connection: h.redis, prefix: h.prefix });
    const counts = await queue.getJobCounts();
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(0);
    await queue.close();
    expect(existsSync(MARKER)).toBe(false);
  });
});
