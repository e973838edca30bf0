import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { startHarness, TERMINAL, type Harness } from './support/deployment-harness.js';
import { makeGitRepository } from './support/git-repository.js';

/** Stays in STARTING_CONTAINERS for ~4 s: healthy only once /tmp/ready exists. */
const SLOW_START = {
  command: ['sh', '-c', 'sleep 4; touch /tmp/ready; exec sleep 3600'],
  healthcheck: { test: ['CMD', 'cat', '/tmp/ready'], intervalSeconds: 1, timeoutSeconds: 1, retries: 30 },
};
const makeRepository = () => makeGitRepository({ Dockerfile: 'FROM local/busybox:1\nRUN echo built > /built\n' }, 'rw-kill-src-');

const QUEUE_TIMING = { QUEUE_LOCK_DURATION_MS: '3000', QUEUE_STALLED_INTERVAL_MS: '1000' };

function spawnWorker(h: Harness): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/deployments/support/worker-child.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: h.db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: h.prefix,
      PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', RUNWAY_STATE_DIR: '/tmp', ALLOW_FILE_GIT_URLS: 'true', ...QUEUE_TIMING,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

describe('a worker killed with SIGKILL mid-deployment', () => {
  let h: Harness;
  let rescuer: RunwayInstance | undefined;
  let child: ChildProcess | undefined;

  let repo: string;

  beforeAll(async () => {
    repo = makeRepository();
    // The API only: the deployments below are worked on by the child process alone.
    h = await startHarness('dep_kill', QUEUE_TIMING, 'api');
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await rescuer?.stop();
    await h?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('leaves jobs that a new worker resumes or fails cleanly: every deployment ends terminal', async () => {
    const env = await h.createEnvironment('crashy');
    child = await spawnWorker(h);
    const jobs: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      const started = await h.deployImage({ environmentId: env.id, name, ...SLOW_START });
      expect(started.status).toBe(202);
      jobs.push(started.body.jobId);
    }
    // And one built from Git, so a kill may also land in BUILDING or just after it.
    const fromGit = await h.api('POST', '/deployments/from-git', { environmentId: env.id, repoUrl: `file://${repo}`, name: 'built', ...SLOW_START });
    expect(fromGit.status).toBe(202);
    jobs.push(fromGit.body.jobId);
    // Kill while the worker holds them mid-way (STARTING_CONTAINERS waits for the health check).
    await h.waitForJob(jobs[0]!, ['STARTING_CONTAINERS'], 30_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const atKill = await Promise.all(jobs.map(async (jobId) => (await h.api('GET', `/deployments/job/${jobId}`)).body.status));
    expect(atKill.some((status: string) => !TERMINAL.includes(status))).toBe(true);

    const killedAt = Date.now();
    rescuer = await startRunway({ DATABASE_URL: h.db.url, REDIS_PREFIX: h.prefix, METRICS_PORT: '0', ALLOW_FILE_GIT_URLS: 'true', ...QUEUE_TIMING }, 'worker');
    const finals = await Promise.all(jobs.map((jobId) => h.waitForJob(jobId, TERMINAL, 60_000)));
    console.log('states at kill:', atKill.join(' '), '| final:', finals.map((f) => f.status).join(' '), `| ${Date.now() - killedAt} ms after the kill`);
    const elapsed = Date.now() - killedAt;
    for (const final of finals) {
      expect(['RUNNING', 'FAILED']).toContain(final.status);
      if (final.status === 'FAILED') expect(final.errorMessage).toBeTruthy();
    }
    // Resumed, not restarted: the transitions before the kill are kept and each state appears once.
    for (const final of finals.filter((f) => f.status === 'RUNNING')) {
      const states = final.transitions.map((t: { to: string }) => t.to);
      expect(new Set(states).size).toBe(states.length);
    }
    expect(elapsed).toBeLessThan(60_000);
  });
});
