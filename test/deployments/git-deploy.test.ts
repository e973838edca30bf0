import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/docker/docker-client.js';
import { fetchText, randomHostPort, startHarness, type Harness } from './support/deployment-harness.js';
import { makeGitRepository } from './support/git-repository.js';

/** A site on port 8080 answering `body`, and a Dockerfile whose build fails. */
function makeRepository(body: string): string {
  return makeGitRepository({
    Dockerfile: `FROM local/busybox:1\nRUN mkdir -p /www && echo ${body} > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    'broken.Dockerfile': 'FROM local/busybox:1\nRUN exit 7\n',
  });
}

describe('Git deployments against the real swarm', () => {
  let h: Harness;
  let env: { id: string };
  let repo: string;
  const port = randomHostPort();
  const docker = createDockerClient();

  beforeAll(async () => {
    h = await startHarness('dep_git', { RUNWAY_STATE_DIR: mkdtempSync(join(tmpdir(), 'rw-state-')) });
    env = await h.createEnvironment('gitenv');
    repo = makeRepository('from-git');
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('clones over file://, builds with the classic builder, tags per deployment and reaches RUNNING', async () => {
    const started = await h.api('POST', '/deployments/from-git', {
      environmentId: env.id, repoUrl: `file://${repo}`, branch: 'main', name: 'site', ports: [{ container: 8080, host: port }],
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const done = await h.waitForJob(started.body.jobId, undefined, 90_000);
    expect(done.status, done.errorMessage).toBe('RUNNING');
    expect(done.transitions.map((t: { to: string }) => t.to)).toEqual(['PENDING', 'BUILDING', 'PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS', 'RUNNING']);
    expect(done.builtImage).toContain(started.body.deploymentId);
    expect(done.buildLog).toContain('Cloning');
    expect(done.sourceRef).toBe(`file://${repo}@main`);
    expect(await fetchText(`http://127.0.0.1:${port}/`)).toBe('from-git');
    await docker.getImage(done.builtImage).inspect();
    // The build directory is gone.
    const stateDir = h.runway.runtime.infra.config.RUNWAY_STATE_DIR;
    expect(readdirSync(join(stateDir, 'builds')).filter((name) => name.startsWith('build-'))).toEqual([]);
  });

  it('a Dockerfile that fails to build ends FAILED with the build output kept and no image left', async () => {
    const started = await h.api('POST', '/deployments/from-git', { environmentId: env.id, repoUrl: `file://${repo}`, dockerfile: 'broken.Dockerfile', name: 'broken' });
    expect(started.status).toBe(202);
    const done = await h.waitForJob(started.body.jobId, undefined, 90_000);
    expect(done.status).toBe('FAILED');
    expect(done.errorMessage).toMatch(/build failed/i);
    expect(done.buildLog).toContain('Cloning');
    const images = await docker.listImages({ filters: { label: [`io.runway.deployment=${started.body.deploymentId}`] } });
    expect(images).toEqual([]);
  });

  it('a repository that does not exist ends FAILED with git saying why', async () => {
    const started = await h.api('POST', '/deployments/from-git', { environmentId: env.id, repoUrl: `file://${repo}-missing`, name: 'missing' });
    const done = await h.waitForJob(started.body.jobId, undefined, 60_000);
    expect(done.status).toBe('FAILED');
    expect(done.errorMessage).toMatch(/could not fetch/);
  });
});
