/**
 * Builds a Git deployment's image: validate the source, shallow-clone it into
 * a fresh directory under `workDir`, check out the commit, stream the
 * directory as a tar build context to the engine, and remove the directory
 * whatever happened. Nothing runs before every user value passed validation.
 */
import { lstat, mkdir, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from 'tar-fs';
import { AppError, badRequest } from '../core/errors.js';
import type { Labels, SwarmGateway } from '../docker/swarm-gateway.js';
import { execGit, GitCommandError, lastLines, type GitRunner } from './git-command.js';
import { branchProblem, commitShaSchema, dockerfilePathSchema, gitUrlProblem, redactGitUrl } from './git-source-schema.js';
import { imageReferenceSchema } from '../core/service-options-schema.js';

export interface GitBuildDependencies {
  gateway: Pick<SwarmGateway, 'buildImage'>;
  /** file:// sources (config ALLOW_FILE_GIT_URLS). */
  allowFileUrls: boolean;
  /** Injected in tests; defaults to execFile('git', ...). */
  runGit?: GitRunner;
  cloneTimeoutMs?: number;
  buildTimeoutMs?: number;
}

export interface GitBuildRequest {
  repoUrl: string;
  branch?: string;
  commitSha?: string;
  /** Path inside the repository; default `Dockerfile`. */
  dockerfile?: string;
  /** Image tag to build, one per deployment. */
  tag: string;
  labels: Labels;
  /** Parent of the per-build directories (e.g. RUNWAY_STATE_DIR/builds). */
  workDir: string;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export interface GitBuildResult {
  image: string;
  log: string[];
  /** The commit that was built (full sha). */
  commitSha: string;
}

/** Prefix of per-build directories, so a clean-up can find leftovers. */
export const BUILD_DIR_PREFIX = 'build-';

interface ValidSource {
  repoUrl: string;
  branch?: string;
  commitSha?: string;
  dockerfile: string;
}

/** Every user value checked before any process runs; throws 400 (VALIDATION_FAILED). */
export function validateGitSource(request: Pick<GitBuildRequest, 'repoUrl' | 'branch' | 'commitSha' | 'dockerfile'>, allowFileUrls: boolean): ValidSource {
  const urlProblem = gitUrlProblem(request.repoUrl, { allowFileUrls });
  if (urlProblem) throw badRequest(`repoUrl ${urlProblem}`, { details: { field: 'repoUrl' } });
  const branch = request.branch;
  const branchIssue = branch === undefined ? undefined : branchProblem(branch);
  if (branchIssue) throw badRequest(`branch ${branchIssue}`, { details: { field: 'branch' } });
  const sha = request.commitSha === undefined ? undefined : commitShaSchema.safeParse(request.commitSha);
  if (sha && !sha.success) throw badRequest('commitSha must be 7-40 hexadecimal digits', { details: { field: 'commitSha' } });
  const dockerfile = dockerfilePathSchema.safeParse(request.dockerfile ?? 'Dockerfile');
  if (!dockerfile.success) throw badRequest(`dockerfile ${dockerfile.error.issues[0]?.message ?? 'is invalid'}`, { details: { field: 'dockerfile' } });
  return { repoUrl: request.repoUrl, ...(branch ? { branch } : {}), ...(sha?.success ? { commitSha: sha.data } : {}), dockerfile: dockerfile.data };
}

export async function buildFromGit(deps: GitBuildDependencies, request: GitBuildRequest): Promise<GitBuildResult> {
  const source = validateGitSource(request, deps.allowFileUrls);
  if (!imageReferenceSchema.safeParse(request.tag).success) throw badRequest(`tag ${request.tag} is not an image reference`);
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    request.onLog?.(line);
  };
  await mkdir(request.workDir, { recursive: true, mode: 0o700 });
  const dir = await realpath(await mkdtemp(join(request.workDir, BUILD_DIR_PREFIX)));
  try {
    const commitSha = await checkout(deps, source, dir, say, request.signal);
    const dockerfile = await locateDockerfile(dir, source.dockerfile);
    say(`Building ${request.tag} from ${dockerfile} at ${commitSha}`);
    // tar-fs streams are streamx streams; they pipe like Node's, which is all the engine call needs.
    const context = pack(dir, { ignore: (name) => relative(dir, name).split(sep)[0] === '.git' }) as unknown as Readable;
    const signal = combineSignals(request.signal, deps.buildTimeoutMs ?? 15 * 60_000);
    const result = await deps.gateway.buildImage(context, { tag: request.tag, dockerfile, labels: request.labels, onLog: say, signal });
    return { image: result.image, log, commitSha };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function checkout(deps: GitBuildDependencies, source: ValidSource, dir: string, say: (line: string) => void, signal?: AbortSignal): Promise<string> {
  const git = (args: string[], cwd?: string) =>
    (deps.runGit ?? execGit)(args, { cwd, signal, timeoutMs: deps.cloneTimeoutMs ?? 120_000, allowFile: deps.allowFileUrls });
  const shownUrl = redactGitUrl(source.repoUrl);
  say(`Cloning ${shownUrl}${source.branch ? ` (branch ${source.branch})` : ''}${source.commitSha ? ` at ${source.commitSha}` : ''}`);
  try {
    if (source.commitSha === undefined) {
      const branchArgs = source.branch ? ['--branch', source.branch] : [];
      await git(['clone', '--depth', '1', '--single-branch', '--no-tags', ...branchArgs, '--', source.repoUrl, dir]);
    } else {
      await fetchCommit(git, source, dir);
    }
    const head = (await git(['rev-parse', '--verify', 'HEAD^{commit}'], dir)).stdout.trim();
    say(`Checked out ${head}`);
    return head;
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    const detail = scrub(error.stderr ? lastLines(error.stderr, 3) : error.message, source.repoUrl);
    throw new AppError('GIT_CLONE_FAILED', `git could not fetch ${shownUrl}: ${detail}`, {
      status: 422,
      retryable: error.timedOut,
      details: { repoUrl: shownUrl },
      suggestions: ['Check that the repository, branch and commit exist and that Runway may read them'],
    });
  }
}

/**
 * A full sha is fetched alone (depth 1; servers speaking protocol v2, like
 * GitHub, allow it). An abbreviated sha, or a server that refuses, falls
 * back to cloning the branch's history and checking the commit out.
 */
async function fetchCommit(git: (args: string[], cwd?: string) => Promise<unknown>, source: ValidSource, dir: string): Promise<void> {
  const sha = source.commitSha as string;
  if (sha.length === 40) {
    try {
      await git(['init', '--quiet', '--', dir]);
      await git(['fetch', '--depth', '1', '--no-tags', '--', source.repoUrl, sha], dir);
      await git(['checkout', '--quiet', '--detach', 'FETCH_HEAD'], dir);
      return;
    } catch {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
    }
  }
  const branchArgs = source.branch ? ['--branch', source.branch, '--single-branch'] : [];
  await git(['clone', '--no-checkout', '--no-tags', ...branchArgs, '--', source.repoUrl, dir]);
  await git(['checkout', '--quiet', '--detach', `${sha}^{commit}`], dir);
}

/** The Dockerfile must be a regular file inside the checkout (no symlink out of it). */
async function locateDockerfile(dir: string, dockerfile: string): Promise<string> {
  const path = resolve(dir, dockerfile);
  // realpath: a symlinked directory on the way must not lead out of the checkout.
  const real = await realpath(path).catch(() => undefined);
  const info = await lstat(path).catch(() => undefined);
  if (real !== undefined && !real.startsWith(dir + sep)) throw badRequest(`dockerfile ${dockerfile} is outside the repository`);
  if (!info?.isFile() || real !== path) {
    throw badRequest(`dockerfile ${dockerfile} was not found in the repository`, {
      details: { field: 'dockerfile' },
      suggestions: ['Give the path of the Dockerfile relative to the repository root'],
    });
  }
  return relative(dir, path).split(sep).join(posix.sep);
}

function combineSignals(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** Removes credentials of the URL from git's messages. */
function scrub(text: string, url: string): string {
  return url === redactGitUrl(url) ? text : text.split(url).join(redactGitUrl(url));
}

/** Removes build directories older than `olderThanMs` left by a killed worker. Returns how many. */
export async function removeStaleBuildDirs(workDir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  let removed = 0;
  for (const entry of entries.filter((name) => name.startsWith(BUILD_DIR_PREFIX))) {
    const path = join(workDir, entry);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs >= olderThanMs) {
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}
