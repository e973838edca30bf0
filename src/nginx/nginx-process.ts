/**
 * Runs the Nginx binary that serves Runway's sites: `nginx -t` before a
 * config goes live and `nginx -s reload` after. execFile with an argument
 * array and a timeout, never a shell string.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface NginxProcessOptions {
  /** The nginx binary (NGINX_BIN). */
  bin: string;
  /** Arguments every call starts with, e.g. ['-p', '/srv/nginx', '-c', 'conf/nginx.conf'] (NGINX_ARGS). */
  args: string[];
  timeoutMs?: number;
  /**
   * The master's pid file (NGINX_PID_FILE). When set, a reload is a SIGHUP to
   * that pid; `nginx -s reload` would first parse the whole configuration
   * again just to find the pid (about 0.5 s with 500 HTTPS sites).
   */
  pidFile?: string;
}

export class NginxCommandError extends Error {
  readonly code = 'NGINX_COMMAND_FAILED';
  /**
   * True when nginx ran and said no (non-zero exit: a config it rejects);
   * false when it could not run at all (missing binary, timeout, no master).
   */
  readonly rejected: boolean;

  constructor(readonly command: string, readonly output: string, options: { cause?: unknown; rejected?: boolean } = {}) {
    super(`nginx ${command} failed: ${output.trim() || 'no output'}`, { cause: options.cause });
    this.name = 'NginxCommandError';
    this.rejected = options.rejected ?? false;
  }
}

/** Splits NGINX_ARGS on whitespace; paths with spaces are not supported there. */
export function parseNginxArgs(value: string): string[] {
  return value.split(/\s+/).filter(Boolean);
}

export class NginxProcess {
  private readonly timeoutMs: number;

  constructor(private readonly options: NginxProcessOptions) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** `nginx -t`: resolves when the whole configuration (with every site file) is valid. */
  async test(): Promise<void> {
    await this.run('-t', ['-t', '-q']);
  }

  /** Signals the running master to re-read its configuration. */
  async reload(): Promise<void> {
    if (!this.options.pidFile) return this.run('reload', ['-s', 'reload']);
    const pid = Number((await readFile(this.options.pidFile, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new NginxCommandError('reload', `no master pid in ${this.options.pidFile}`);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (error) {
      throw new NginxCommandError('reload', `cannot signal the nginx master ${pid}: ${(error as Error).message}`, { cause: error });
    }
  }

  private run(name: string, extra: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.options.bin, [...this.options.args, ...extra], { timeout: this.timeoutMs }, (error, stdout, stderr) => {
        if (!error) return resolve();
        // A numeric code is nginx's exit status; a string code (ENOENT, EACCES) or a kill means it never answered.
        const rejected = typeof error.code === 'number' && !error.killed;
        reject(new NginxCommandError(name, `${stderr}${stdout}` || error.message, { cause: error, rejected }));
      });
    });
  }
}
