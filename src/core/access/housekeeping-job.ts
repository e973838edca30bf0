import type { Logger } from '../../logging/logger.js';
import type { ScheduledJob } from '../../scheduler/scheduled-jobs.js';
import type { AccessUseCases } from './access-use-cases.js';

/** Deletes used and expired magic links every 10 minutes, on one instance at a time. */
export function spentLinksCleanupJob(useCases: AccessUseCases, logger: Logger): ScheduledJob {
  return {
    name: 'access-delete-spent-links',
    schedule: '*/10 * * * *',
    lockTtlMs: 60_000,
    async run() {
      const deleted = await useCases.deleteSpentLinks();
      if (deleted > 0) logger.info({ deleted }, 'deleted spent magic links');
      return deleted;
    },
  };
}
