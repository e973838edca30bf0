import type { Database } from '../../db/prisma.js';
import type { Logger } from '../../logging/logger.js';

/**
 * Keeps `lastUsedAt` without a database write per request (issue 3): uses
 * are remembered in memory and written in one batch every `intervalMs`, and
 * once more on shutdown. A key used on several instances gets the latest time.
 */
export class LastUsedRecorder {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database, private readonly logger: Logger, private readonly intervalMs: number) {}

  touch(apiKeyRowId: string, at = new Date()): void {
    this.pending.set(apiKeyRowId, at);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.db.$transaction(
        [...batch].map(([id, at]) =>
          this.db.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] }, data: { lastUsedAt: at } }),
        ),
      );
    } catch (error) {
      // Keep the uses for the next try, unless a newer use replaced them meanwhile.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      this.logger.warn({ err: { message: (error as Error).message }, keys: batch.size }, 'lastUsedAt flush failed');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
