/**
 * Validation of the Git fields of POST /deployments/from-git (issue 4): which
 * repository URLs, branches, commits and Dockerfile paths Runway accepts.
 * Shared by the REST route and chat parsing; git-build.ts checks again right
 * before running git, so no caller can skip it.
 */
import { z } from 'zod';
import { serviceOptionsSchema, type ServiceLimits } from '../core/service-options-schema.js';

export interface GitUrlOptions {
  /** file:// sources, for local use and tests only (config ALLOW_FILE_GIT_URLS). */
  allowFileUrls: boolean;
}

const hostPattern = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])$/i;
const scpLikePattern = /^([a-z0-9_][a-z0-9._-]*)@([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?):([a-z0-9._~][a-z0-9._~/-]*)$/i;

/**
 * Why a Git URL is refused, or undefined when it is accepted. Only https://,
 * ssh://, user@host:path and (when allowed) file:// pass; `ext::`-style
 * transport helpers, option-looking values (`-u...`, `--upload-pack`) and
 * hosts that ssh would read as options are refused.
 */
export function gitUrlProblem(url: string, options: GitUrlOptions): string | undefined {
  if (url.length === 0 || url.length > 2048) return 'must be 1-2048 characters';
  if (url.startsWith('-')) return 'must not start with -';
  if (/[\s\0-\x1f\x7f]/.test(url)) return 'must not contain spaces or control characters';
  if (url.includes('::')) return 'transport helpers such as ext:: are not allowed';
  const scp = scpLikePattern.exec(url);
  if (scp) return scp[3]?.split('/').includes('..') ? "must not contain '..'" : undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an https://, ssh://, or git@host:path URL';
  }
  switch (parsed.protocol) {
    case 'https:':
    case 'ssh:':
      if (!hostPattern.test(parsed.hostname)) return 'must name a valid host';
      if (parsed.username.startsWith('-')) return 'user must not start with -';
      return parsed.pathname.length > 1 ? undefined : 'must name a repository path';
    case 'file:':
      if (!options.allowFileUrls) return 'file:// sources are disabled (ALLOW_FILE_GIT_URLS)';
      return parsed.hostname === '' && parsed.pathname.length > 1 ? undefined : 'must be file:///absolute/path';
    default:
      return 'must be an https://, ssh://, or git@host:path URL';
  }
}

export function gitRepoUrlSchema(options: GitUrlOptions) {
  return z.string().superRefine((url, context) => {
    const problem = gitUrlProblem(url, options);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}

/** Why a branch name is refused (git check-ref-format --branch rules), or undefined. */
export function branchProblem(branch: string): string | undefined {
  if (branch.length === 0 || branch.length > 255) return 'must be 1-255 characters';
  if (branch.startsWith('-')) return 'must not start with -';
  if (branch === '@' || branch.includes('@{')) return "must not be '@' or contain '@{'";
  if (/[\0-\x20\x7f~^:?*[\\]/.test(branch)) return 'must not contain spaces, control characters or ~ ^ : ? * [ \\';
  if (branch.includes('..')) return "must not contain '..'";
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) return 'must not start or end with / or contain //';
  if (branch.endsWith('.')) return 'must not end with .';
  const badComponent = branch.split('/').find((part) => part.startsWith('.') || part.endsWith('.lock'));
  return badComponent === undefined ? undefined : 'no part may start with . or end with .lock';
}

export const branchSchema = z.string().superRefine((branch, context) => {
  const problem = branchProblem(branch);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** A full or abbreviated commit id (7-40 hex digits), lower-cased. */
export const commitShaSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{7,40}$/, 'must be 7-40 hexadecimal digits')
  .transform((sha) => sha.toLowerCase());

/** Dockerfile path inside the repository: relative, no '..', no option-looking value. */
export const dockerfilePathSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((path) => !path.startsWith('/') && !path.startsWith('-'), 'must be a relative path inside the repository')
  .refine((path) => !path.split(/[\\/]/).includes('..'), "must not contain '..'")
  .refine((path) => !/[\0-\x1f\x7f]/.test(path), 'must not contain control characters');

export function gitSourceSchema(options: GitUrlOptions) {
  return z.strictObject({
    repoUrl: gitRepoUrlSchema(options),
    branch: branchSchema.optional(),
    commitSha: commitShaSchema.optional(),
    dockerfile: dockerfilePathSchema.optional(),
  });
}
export type GitSource = z.output<ReturnType<typeof gitSourceSchema>>;

/** Body of POST /deployments/from-git. */
export function gitDeploymentSchema(limits: ServiceLimits, options: GitUrlOptions) {
  return serviceOptionsSchema(limits).extend({
    environmentId: z.string().min(1).max(64),
    ...gitSourceSchema(options).shape,
  });
}
export type GitDeploymentRequest = z.output<ReturnType<typeof gitDeploymentSchema>>;

/** The URL without user info, for logs and messages (https tokens are secrets). */
export function redactGitUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
      return parsed.toString();
    }
  } catch {
    // scp-like URLs carry no secret
  }
  return url;
}
