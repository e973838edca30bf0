/**
 * Runs git without a shell: an argument array, a timeout, no terminal
 * prompts, ssh in batch mode, and transport helpers (ext::, fd::) disabled in
 * git itself as a second line behind URL validation.
 */
import { execFile } from 'node:child_process';

export interface GitRunOptions {
  cwd?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Whether file:// may be used (config ALLOW_FILE_GIT_URLS). */
  allowFile: boolean;
}

export interface GitRunResult {
  stdout: string;
  stderr: string;
}

/** How git is run; tests inject a recorder to prove that refused input starts no process. */
export type GitRunner = (args: string[], options: GitRunOptions) => Promise<GitRunResult>;

export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

/** `-c` settings put before every git command. */
export function hardeningConfig(allowFile: boolean): string[] {
  return [
    '-c', 'protocol.ext.allow=never',
    '-c', 'protocol.fd.allow=never',
    '-c', `protocol.file.allow=${allowFile ? 'always' : 'never'}`,
    '-c', 'core.askPass=',
    '-c', 'credential.helper=',
    '-c', 'submodule.recurse=false',
    '-c', 'advice.detachedHead=false',
  ];
}

export const execGit: GitRunner = (args, options) =>
  new Promise((resolve, reject) => {
    execFile(
      'git',
      [...hardeningConfig(options.allowFile), ...args],
      {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        signal: options.signal,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: '',
          SSH_ASKPASS: '',
          GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_PROTOCOL_FROM_USER: '0',
          LANG: 'C',
        },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const timedOut = (error as { killed?: boolean }).killed === true && !options.signal?.aborted;
        reject(new GitCommandError(timedOut ? `git timed out after ${options.timeoutMs} ms` : lastLines(stderr) || error.message, stderr, timedOut));
      },
    );
  });

export function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
