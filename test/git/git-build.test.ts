import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.js';
import { createDockerClient } from '../../src/docker/docker-client.js';
import { DockerodeSwarmGateway } from '../../src/docker/dockerode-swarm-gateway.js';
import { InMemorySwarmGateway } from '../../src/docker/in-memory-swarm-gateway.js';
import { isSwarmError } from '../../src/docker/swarm-errors.js';
import { LABELS } from '../../src/docker/swarm-gateway.js';
import { buildFromGit, removeStaleBuildDirs, type GitBuildRequest } from '../../src/git/git-build.js';
import type { GitRunner } from '../../src/git/git-command.js';
import { uniqueInstance } from '../docker/swarm-gateway.contract.js';

const docker = createDockerClient();
const gateway = new DockerodeSwarmGateway(docker);
const instance = uniqueInstance();
const labels = { [LABELS.managed]: 'true', [LABELS.instance]: instance };
let root: string;
let repoUrl: string;
let brokenRepoUrl: string;
let firstSha: string;
let headSha: string;
let workDir: string;
const marker = join(tmpdir(), `rw-pwned-${instance}`);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();
}

/** A bare repository with commits made from `files`, served over file://. */
async function makeRepo(name: string, commits: Record<string, string>[], branches: Record<string, Record<string, string>> = {}): Promise<{ url: string; shas: string[] }> {
  const work = join(root, `${name}-work`);
  const bare = join(root, `${name}.git`);
  await mkdir(work);
  git(work, 'init', '--quiet', '--initial-branch=main');
  const shas: string[] = [];
  for (const files of commits) {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(work, path, '..'), { recursive: true });
      await writeFile(join(work, path), content);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', `commit ${shas.length + 1}`);
    shas.push(git(work, 'rev-parse', 'HEAD'));
  }
  for (const [branch, files] of Object.entries(branches)) {
    git(work, 'checkout', '--quiet', '-b', branch);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(work, path, '..'), { recursive: true });
      await writeFile(join(work, path), content);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', `branch ${branch}`);
    git(work, 'checkout', '--quiet', 'main');
  }
  git(root, 'clone', '--quiet', '--bare', work, bare);
  return { url: `file://${bare}`, shas };
}

const request = (overrides: Partial<GitBuildRequest> = {}): GitBuildRequest => ({
  repoUrl, tag: `local/rwt-${instance}-app:${Math.random().toString(36).slice(2, 8)}`, labels, workDir, ...overrides,
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rw-git-'));
  workDir = join(root, 'builds');
  const repo = await makeRepo(
    'app',
    [
      { Dockerfile: 'FROM local/busybox:1\nRUN echo first-commit\n' },
      { Dockerfile: 'FROM local/busybox:1\nRUN echo built-from-git\nCOPY hello.txt /hello.txt\n', 'hello.txt': 'hi\n' },
    ],
    { feature: { 'docker/Dockerfile.alt': 'FROM local/busybox:1\nRUN echo feature-branch\n' } },
  );
  repoUrl = repo.url;
  [firstSha = '', headSha = ''] = repo.shas;
  brokenRepoUrl = (await makeRepo('broken', [{ Dockerfile: 'FROM local/busybox:1\nRUN echo about-to-fail; exit 5\n' }])).url;
});

afterAll(async () => {
  for (const image of await docker.listImages({ filters: { label: [`${LABELS.instance}=${instance}`] } })) {
    await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
  }
  await rm(root, { recursive: true, force: true });
  await rm(marker, { force: true });
});

describe('buildFromGit against the real engine (file:// repository)', () => {
  it('clones the default branch shallowly, builds, and removes the build directory', async () => {
    const lines: string[] = [];
    const result = await buildFromGit({ gateway, allowFileUrls: true }, request({ onLog: (line) => lines.push(line) }));
    expect(result.commitSha).toBe(headSha);
    expect(result.log.join('\n')).toContain('built-from-git');
    expect(lines).toEqual(result.log);
    expect(await gateway.imageExists(result.image)).toBe(true);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('builds a branch with a Dockerfile at a given path', async () => {
    const result = await buildFromGit({ gateway, allowFileUrls: true }, request({ branch: 'feature', dockerfile: 'docker/Dockerfile.alt' }));
    expect(result.log.join('\n')).toContain('feature-branch');
  });

  it('checks out a full or abbreviated commit', async () => {
    const full = await buildFromGit({ gateway, allowFileUrls: true }, request({ commitSha: firstSha }));
    expect(full.commitSha).toBe(firstSha);
    expect(full.log.join('\n')).toContain('first-commit');
    const short = await buildFromGit({ gateway, allowFileUrls: true }, request({ commitSha: firstSha.slice(0, 8), branch: 'main' }));
    expect(short.commitSha).toBe(firstSha);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('surfaces the build error with the last lines, and removes the directory', async () => {
    const error = await buildFromGit({ gateway, allowFileUrls: true }, request({ repoUrl: brokenRepoUrl })).catch((caught: unknown) => caught);
    expect(isSwarmError(error, 'BUILD_FAILED')).toBe(true);
    expect((error as Error).message).toContain('returned a non-zero code: 5');
    expect(((error as { details: { log: string[] } }).details.log).join('\n')).toContain('about-to-fail');
    expect(await readdir(workDir)).toEqual([]);
  });

  it('fails a missing repository, branch, commit or Dockerfile with a reason, leaving nothing', async () => {
    const attempts: Partial<GitBuildRequest>[] = [
      { repoUrl: `file://${root}/nope.git` },
      { branch: 'no-such-branch' },
      { commitSha: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef' },
      { dockerfile: 'missing/Dockerfile' },
    ];
    for (const attempt of attempts) {
      const error = await buildFromGit({ gateway, allowFileUrls: true }, request(attempt)).catch((caught: unknown) => caught);
      expect(isAppError(error), JSON.stringify(attempt)).toBe(true);
      expect((error as { code: string }).code).toMatch(/GIT_CLONE_FAILED|VALIDATION_FAILED/);
    }
    expect(await readdir(workDir)).toEqual([]);
  });
});

describe('buildFromGit refuses injections before running anything', () => {
  const calls: string[][] = [];
  const recorder: GitRunner = async (args) => {
    calls.push(args);
    return { stdout: '', stderr: '' };
  };
  const fake = new InMemorySwarmGateway();

  it.each([
    { repoUrl: `--upload-pack=touch ${marker}` },
    { repoUrl: `ext::sh -c touch% ${marker}` },
    { repoUrl: `-oProxyCommand=touch ${marker}` },
    { repoUrl: `ssh://-oProxyCommand=touch%20${marker}/repo` },
    { repoUrl: `git@-oProxyCommand=x:repo` },
    { repoUrl: 'http://example.com/repo.git' },
    { branch: `--upload-pack=touch ${marker}` },
    { branch: 'main; touch /tmp/x' },
    { commitSha: '--all' },
    { dockerfile: '../../etc/passwd' },
    { dockerfile: '/etc/passwd' },
  ])('400 for %o', async (override) => {
    const error = await buildFromGit({ gateway: fake, allowFileUrls: true, runGit: recorder }, request(override)).catch((caught: unknown) => caught);
    expect(isAppError(error) && error.status).toBe(400);
    expect(calls).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses file:// unless configured', async () => {
    const error = await buildFromGit({ gateway: fake, allowFileUrls: false, runGit: recorder }, request()).catch((caught: unknown) => caught);
    expect(isAppError(error) && error.status).toBe(400);
    expect(calls).toEqual([]);
  });

  it('puts -- before the URL and the directory', async () => {
    await buildFromGit({ gateway: fake, allowFileUrls: true, runGit: recorder }, request({ branch: 'main' })).catch(() => undefined);
    const clone = calls.find((args) => args[0] === 'clone');
    expect(clone?.slice(-3)).toEqual(['--', repoUrl, expect.stringContaining(workDir)]);
    calls.length = 0;
  });

  it('runs git itself with ext:: disabled (second line of defence)', async () => {
    // Bypass validation by calling git through the real runner with an ext:: URL.
    const { execGit } = await import('../../src/git/git-command.js');
    await expect(execGit(['ls-remote', '--', `ext::sh -c touch% ${marker}`], { timeoutMs: 10_000, allowFile: false })).rejects.toThrow();
    expect(existsSync(marker)).toBe(false);
  });
});

describe('Dockerfile paths inside the checkout', () => {
  it('refuses a Dockerfile that is a symlink out of the repository', async () => {
    const { url } = await makeRepo('sneaky', [{ 'README.md': 'x' }]);
    const work = join(root, 'sneaky-work');
    await symlink('/etc/passwd', join(work, 'Dockerfile'));
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', 'symlink');
    git(work, 'push', '--quiet', url.replace('file://', ''), 'main');
    const error = await buildFromGit({ gateway: new InMemorySwarmGateway(), allowFileUrls: true }, request({ repoUrl: url })).catch((caught: unknown) => caught);
    expect(isAppError(error) && error.status).toBe(400);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('removeStaleBuildDirs removes only old build directories', async () => {
    await mkdir(join(workDir, 'build-old'));
    await mkdir(join(workDir, 'keep-me'));
    expect(await removeStaleBuildDirs(workDir, 0, Date.now() + 1000)).toBe(1);
    expect(await readdir(workDir)).toEqual(['keep-me']);
    await rm(join(workDir, 'keep-me'), { recursive: true });
  });
});
