import { describe, expect, it } from 'vitest';
import { branchProblem, gitDeploymentSchema, gitUrlProblem, redactGitUrl } from '../../src/git/git-source-schema.js';

const strict = { allowFileUrls: false };
const local = { allowFileUrls: true };

describe('git URLs', () => {
  it.each([
    'https://github.com/owner/repo.git',
    'https://user:token@git.example.com/team/repo',
    'ssh://git@github.com/owner/repo.git',
    'ssh://git@git.example.com:2222/owner/repo.git',
    'git@github.com:owner/repo.git',
  ])('accepts %s', (url) => expect(gitUrlProblem(url, strict)).toBeUndefined());

  it.each([
    'ext::sh -c touch% /tmp/pwned',
    'ext::sh',
    'fd::17',
    '--upload-pack=touch /tmp/pwned',
    '-oProxyCommand=touch /tmp/pwned',
    'ssh://-oProxyCommand=touch%20x/repo',
    'git@-oProxyCommand=x:repo',
    'git@host:-upload-pack',
    'http://example.com/repo.git',
    'git://example.com/repo.git',
    'file:///tmp/repo',
    '/tmp/repo',
    'https://example.com',
    'https://exa mple.com/x',
    'https://example.com/x\n',
    '',
  ])('rejects %s', (url) => expect(gitUrlProblem(url, strict)).toBeTypeOf('string'));

  it('accepts file:// only when allowed', () => {
    expect(gitUrlProblem('file:///tmp/repo', local)).toBeUndefined();
    expect(gitUrlProblem('file://host/tmp/repo', local)).toBeTypeOf('string');
  });

  it('redacts credentials', () => {
    expect(redactGitUrl('https://user:secret@example.com/r.git')).toBe('https://example.com/r.git');
    expect(redactGitUrl('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
  });
});

describe('branches (git check-ref-format --branch)', () => {
  it.each(['main', 'feature/x', 'release-1.2', 'v1.0.0', 'a@b'])('accepts %s', (branch) => expect(branchProblem(branch)).toBeUndefined());
  it.each(['--upload-pack=x', '-b', 'a..b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', '/a', 'a/', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', '@', 'a@{1}', ''])(
    'rejects %s',
    (branch) => expect(branchProblem(branch)).toBeTypeOf('string'),
  );
});

describe('git deployment body', () => {
  const schema = gitDeploymentSchema({ maxCpu: 1, maxMemoryMb: 512, maxReplicas: 3 }, strict);
  it('parses a valid body', () => {
    const body = schema.parse({ environmentId: 'e', repoUrl: 'https://github.com/o/r', branch: 'main', commitSha: 'ABCDEF1', dockerfile: 'docker/Dockerfile.prod', name: 'api' });
    expect(body.commitSha).toBe('abcdef1');
  });
  it.each([
    { commitSha: 'xyz1234' },
    { commitSha: 'abc12' },
    { dockerfile: '../Dockerfile' },
    { dockerfile: '/etc/passwd' },
    { dockerfile: 'a/../../b' },
    { dockerfile: '-f' },
    { branch: '--upload-pack=touch /tmp/x' },
    { repoUrl: 'ext::sh -c id' },
  ])('rejects %o', (override) => {
    expect(schema.safeParse({ environmentId: 'e', repoUrl: 'https://github.com/o/r', ...override }).success).toBe(false);
  });
});
