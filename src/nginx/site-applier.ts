/**
 * File and process effects of publishing Nginx sites: each file written
 * atomically (temp file + rename), then `nginx -t` of the Nginx that serves
 * them, then a reload. If the check fails, every file of the batch is put back
 * as it was, so a rejected config is never left live (issue 5).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { NginxCommandError, type NginxProcess } from './nginx-process.js';
import { isManagedFileName } from './site-spec.js';

/** New content for one file of the sites directory; null removes it. */
export interface SiteFileChange {
  fileName: string;
  content: string | null;
}

export interface ApplyResult {
  /** Files whose content changed; nothing is checked or reloaded when empty. */
  changed: string[];
}

export class NginxConfigRejectedError extends Error {
  readonly code = 'NGINX_CONFIG_REJECTED';
  constructor(readonly output: string, options?: { cause?: unknown }) {
    super(`nginx rejected the new configuration; the previous one stays live: ${output.trim()}`, options);
    this.name = 'NginxConfigRejectedError';
  }
}

/** A config `nginx -t` refused becomes NginxConfigRejectedError; any other failure stays as it is. */
function asRejection(error: unknown): unknown {
  return error instanceof NginxCommandError && error.rejected ? new NginxConfigRejectedError(error.output, { cause: error }) : error;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Atomic replace: a reader (nginx -t, a reload) sees the old file or the new one, never half. */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export class SiteApplier {
  /** One apply at a time per process: a restore must not undo another batch. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sitesDir: string,
    private readonly nginx: NginxProcess,
    private readonly logger: Logger,
  ) {}

  /** Names of the files Runway manages in the sites directory. */
  async listManagedFiles(): Promise<string[]> {
    await mkdir(this.sitesDir, { recursive: true });
    return (await readdir(this.sitesDir)).filter(isManagedFileName);
  }

  async readFile(fileName: string): Promise<string | null> {
    return readIfExists(join(this.sitesDir, fileName));
  }

  /** Writes the changed files, checks, reloads; restores every file if the check fails. */
  apply(changes: SiteFileChange[]): Promise<ApplyResult> {
    return this.inTurn(() => this.applyNow(changes));
  }

  /** `nginx -t` then reload with the files as they are, e.g. after certificates were replaced in place. */
  checkAndReload(): Promise<void> {
    return this.inTurn(async () => {
      try {
        await this.nginx.test();
      } catch (error) {
        throw asRejection(error);
      }
      await this.nginx.reload();
    });
  }

  /** Runs `work` after every earlier apply or reload of this process has finished, failed or not. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(changes: SiteFileChange[]): Promise<ApplyResult> {
    await mkdir(this.sitesDir, { recursive: true });
    for (const change of changes) {
      if (!isManagedFileName(change.fileName) || change.fileName.includes('/')) {
        throw new Error(`refusing to touch ${change.fileName}: not a Runway site file`);
      }
    }
    // Files are independent of each other: read and write them concurrently (500 sites in one batch).
    const befores = await Promise.all(changes.map((change) => readIfExists(join(this.sitesDir, change.fileName))));
    const previous = new Map<string, string | null>();
    const pending: SiteFileChange[] = [];
    changes.forEach((change, index) => {
      if (befores[index] === change.content) return;
      previous.set(change.fileName, befores[index] ?? null);
      pending.push(change);
    });
    if (pending.length === 0) return { changed: [] };

    try {
      await Promise.all(pending.map((change) => this.put(change.fileName, change.content)));
      await this.nginx.test();
    } catch (error) {
      await this.restore(previous);
      throw asRejection(error);
    }
    await this.nginx.reload();
    this.logger.info({ changed: previous.size }, 'nginx configuration applied');
    return { changed: [...previous.keys()] };
  }

  private async put(fileName: string, content: string | null): Promise<void> {
    const path = join(this.sitesDir, fileName);
    if (content === null) await rm(path, { force: true });
    else await writeFileAtomic(path, content);
  }

  private async restore(previous: Map<string, string | null>): Promise<void> {
    await Promise.all(
      [...previous].map(([fileName, content]) =>
        this.put(fileName, content).catch((error) =>
          this.logger.error({ err: error, fileName }, 'could not restore a site file after a failed nginx check'),
        ),
      ),
    );
  }
}
