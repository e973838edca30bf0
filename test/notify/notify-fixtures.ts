import { nanoid } from 'nanoid';
import type { Database } from '../../src/db/prisma.js';
import type { RedisEventStream } from '../../src/events/redis-event-stream.js';
import type { DeploymentStatus } from '../../src/generated/prisma/enums.js';

/**
 * Rows and events as the deployment engine writes them (transition stored,
 * then 'deployment.state' published), for driving the notifier directly.
 */
export async function createOwner(db: Database, targets: { platform: 'TELEGRAM' | 'DISCORD'; chatId: string }[]) {
  const user = await db.user.create({ data: { id: nanoid(), telegramId: String(Date.now() + Math.floor(Math.random() * 1e6)), allowed: true } });
  for (const target of targets) await db.chatTarget.create({ data: { id: nanoid(), userId: user.id, ...target } });
  const env = await db.environment.create({ data: { id: nanoid(), userId: user.id, name: `shop${nanoid(4).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`, networkName: `rw-net-${nanoid(8)}` } });
  return { user, env };
}

export class FixtureDeployment {
  private state: DeploymentStatus | null = null;

  private constructor(
    private readonly db: Database,
    private readonly stream: RedisEventStream,
    readonly id: string,
    readonly jobId: string,
    readonly owner: { userId: string; envId: string; envName: string; service: string },
  ) {}

  static async create(db: Database, stream: RedisEventStream, owner: { userId: string; envId: string; envName: string }, service = 'web') {
    const svc = await db.service.create({ data: { id: nanoid(), environmentId: owner.envId, name: `${service}${nanoid(4).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`, swarmName: `rw-${nanoid(10)}` } });
    const id = nanoid();
    const jobId = nanoid(16);
    await db.deployment.create({
      data: { id, jobId, userId: owner.userId, environmentId: owner.envId, serviceId: svc.id, source: 'IMAGE', image: 'local/busybox', tag: '1', spec: {} },
    });
    const deployment = new FixtureDeployment(db, stream, id, jobId, { ...owner, service: svc.name });
    await deployment.to('PENDING');
    return deployment;
  }

  /** Stores the transition, then publishes it; resolves with the publish time. */
  async to(state: DeploymentStatus, reason?: string, extra: { buildLog?: string } = {}): Promise<number> {
    const at = new Date();
    const final = ['RUNNING', 'FAILED', 'STOPPED', 'SUPERSEDED'].includes(state);
    await this.db.deploymentTransition.create({ data: { id: nanoid(), deploymentId: this.id, fromStatus: this.state, toStatus: state, reason, at } });
    await this.db.deployment.update({
      where: { id: this.id },
      data: { status: state, errorMessage: state === 'FAILED' ? reason : undefined, finishedAt: final ? at : undefined, buildLog: extra.buildLog },
    });
    const publishedAt = Date.now();
    await this.stream.publish({
      type: 'deployment.state',
      deploymentId: this.id,
      jobId: this.jobId,
      ownerId: this.owner.userId,
      environmentId: this.owner.envId,
      environmentName: this.owner.envName,
      serviceName: this.owner.service,
      source: 'local/busybox:1',
      fromState: this.state,
      state,
      at: at.toISOString(),
      reason,
    });
    this.state = state;
    return publishedAt;
  }
}
