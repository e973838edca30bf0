import type { Database } from '../../db/prisma.js';
import type { EventPublisher } from '../../events/runway-event.js';
import type { DeploymentStatus } from '../../generated/prisma/enums.js';
import type { Logger } from '../../logging/logger.js';
import { newId } from './deployment-ids.js';
import { canTransition, isTerminal } from './deployment-states.js';

export interface TransitionExtra {
  /** Stored as the deployment's errorMessage (FAILED). */
  errorMessage?: string;
  builtImage?: string;
  buildLog?: string;
  /** Last lines of a failed deployment's service (FAILED), env var values masked. */
  logTail?: string;
}

/** What an event needs to name the deployment for a person. */
interface DeploymentHeader {
  id: string;
  jobId: string;
  userId: string;
  environmentId: string;
  source: 'IMAGE' | 'GIT';
  image: string | null;
  tag: string | null;
  repoUrl: string | null;
  branch: string | null;
  commitSha: string | null;
  environment: { name: string };
  service: { name: string };
}

/** image:tag, or repoUrl@branch/commit for Git deployments (RunwayEvent.source). */
export function describeSource(d: Pick<DeploymentHeader, 'source' | 'image' | 'tag' | 'repoUrl' | 'branch' | 'commitSha'>): string {
  if (d.source === 'GIT') return `${d.repoUrl}@${d.commitSha ?? d.branch ?? 'HEAD'}`;
  return d.tag ? `${d.image}:${d.tag}` : `${d.image}`;
}

/**
 * The one way a deployment changes state: checks the SPEC section 3 rules,
 * stores the transition with its time in the same transaction as the status
 * (a conditional update, so a worker and the watchdog cannot both win), then
 * publishes a `deployment.state` event for the notifier.
 */
export class DeploymentTransitions {
  constructor(
    private readonly db: Database,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
  ) {}

  /** Returns false, changing nothing, when the deployment is not in a state that may move to `to`. */
  async transition(deploymentId: string, to: DeploymentStatus, reason?: string, extra: TransitionExtra = {}): Promise<boolean> {
    const at = new Date();
    const result = await this.db.$transaction(async (tx) => {
      const current = await tx.deployment.findUnique({
        where: { id: deploymentId },
        include: { environment: { select: { name: true } }, service: { select: { name: true } } },
      });
      if (!current || !canTransition(current.status, to)) return undefined;
      const updated = await tx.deployment.updateMany({
        where: { id: deploymentId, status: current.status },
        data: {
          status: to,
          ...(extra.builtImage !== undefined ? { builtImage: extra.builtImage } : {}),
          ...(extra.buildLog !== undefined ? { buildLog: extra.buildLog } : {}),
          ...(extra.logTail !== undefined ? { logTail: extra.logTail } : {}),
          ...(to === 'FAILED' ? { errorMessage: extra.errorMessage ?? reason ?? 'failed' } : {}),
          ...(isTerminal(to) ? { finishedAt: at } : {}),
        },
      });
      if (updated.count === 0) return undefined;
      await tx.deploymentTransition.create({
        data: { id: newId(), deploymentId, fromStatus: current.status, toStatus: to, reason: reason ?? null, at },
      });
      return current;
    });
    if (!result) return false;
    await this.publish(result, result.status, to, at, reason);
    return true;
  }

  /** Publishes the creation (null -> PENDING) whose transition row the creator stored. */
  async announceCreated(deploymentId: string, at: Date): Promise<void> {
    const d = await this.db.deployment.findUnique({
      where: { id: deploymentId },
      include: { environment: { select: { name: true } }, service: { select: { name: true } } },
    });
    if (d) await this.publish(d, null, 'PENDING', at);
  }

  private async publish(d: DeploymentHeader, from: DeploymentStatus | null, to: DeploymentStatus, at: Date, reason?: string): Promise<void> {
    try {
      await this.events.publish({
        type: 'deployment.state',
        deploymentId: d.id,
        jobId: d.jobId,
        ownerId: d.userId,
        environmentId: d.environmentId,
        environmentName: d.environment.name,
        serviceName: d.service.name,
        source: describeSource(d),
        fromState: from,
        state: to,
        at: at.toISOString(),
        ...(reason ? { reason } : {}),
      });
    } catch (error) {
      // The database row is the truth; a lost notification must not fail the deployment.
      this.logger.warn({ err: error, deploymentId: d.id, state: to }, 'could not publish deployment event');
    }
  }
}
