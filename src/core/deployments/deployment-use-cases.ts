import type { Database } from '../../db/prisma.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { RequestOrigin } from '../../generated/prisma/enums.js';
import type { Logger } from '../../logging/logger.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import { environmentByIdOrName } from '../environments/ownership.js';
import { newId, newJobId } from './deployment-ids.js';
import { hostPorts, serviceNameFor, storedOptions, type DeploymentRequest, type StoredServiceOptions } from './deployment-request.js';
import { ACTIVE_STATES, IN_PROGRESS_STATES } from './deployment-states.js';
import type { DeploymentTransitions } from './deployment-transitions.js';
import { swarmServiceName } from './docker-names.js';

/** Where deployments go to be worked on (BullMQ in production). */
export interface DeploymentJobQueue {
  enqueueDeploy(deploymentId: string, jobId: string): Promise<void>;
  /** BullMQ's state of the job ('waiting', 'active', 'delayed', 'failed', 'completed', 'unknown' ...). */
  jobState(jobId: string): Promise<string>;
  /** Drops a finished job record and enqueues the deployment again (start-up reconciliation). */
  requeueDeploy(deploymentId: string, jobId: string): Promise<void>;
}

export interface StartDeploymentDependencies {
  db: Database;
  queue: DeploymentJobQueue;
  transitions: DeploymentTransitions;
  logger: Logger;
}

export interface StartedDeployment {
  jobId: string;
  deploymentId: string;
  status: 'PENDING';
}

/** Serialises host-port checks across API instances (a PostgreSQL advisory lock). */
const HOST_PORT_LOCK = 7_341_001;

/**
 * Starts deployments: validates ownership and host ports before anything is
 * created, stores the PENDING deployment with its first transition, then
 * hands it to the queue (SPEC sections 3 and 4).
 */
export class StartDeployment {
  constructor(private readonly deps: StartDeploymentDependencies) {}

  async start(principal: Principal, request: DeploymentRequest, origin: RequestOrigin = 'API', previous?: { builtImage: string | null }): Promise<StartedDeployment> {
    const { db } = this.deps;
    // Chat commands name the environment (`/deploy shop nginx`); REST sends its id.
    const environment = await db.environment.findFirst({
      where: environmentByIdOrName(principal, request.environmentId),
    });
    if (!environment) throw notFound('Environment', { details: { environmentId: request.environmentId } });
    const serviceName = serviceNameFor(request);
    const options = storedOptions(request);
    const at = new Date();
    const created = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${HOST_PORT_LOCK})`;
      const service = await this.upsertService(tx, environment.id, serviceName);
      await this.assertNoBusyDeployment(tx, service.id, serviceName);
      await this.assertHostPortsFree(tx, principal, service.id, options);
      const id = newId();
      const jobId = newJobId();
      await tx.deployment.create({
        data: {
          id,
          jobId,
          userId: environment.userId,
          environmentId: environment.id,
          serviceId: service.id,
          source: request.source,
          origin,
          image: request.source === 'IMAGE' ? request.image : null,
          tag: request.source === 'IMAGE' ? (request.tag ?? null) : null,
          repoUrl: request.source === 'GIT' ? request.repoUrl : null,
          branch: request.source === 'GIT' ? (request.branch ?? null) : null,
          commitSha: request.source === 'GIT' ? (request.commitSha ?? null) : null,
          dockerfile: request.source === 'GIT' ? (request.dockerfile ?? null) : null,
          builtImage: previous?.builtImage ?? null,
          spec: options as Prisma.InputJsonValue,
          keepOnFailure: request.keepOnFailure ?? false,
          previousDeploymentId: service.currentDeploymentId,
          transitions: { create: { id: newId(), fromStatus: null, toStatus: 'PENDING', at } },
        },
      });
      return { id, jobId };
    });
    await this.deps.transitions.announceCreated(created.id, at);
    try {
      await this.deps.queue.enqueueDeploy(created.id, created.jobId);
    } catch (error) {
      await this.deps.transitions.transition(created.id, 'FAILED', 'the job queue is unavailable');
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable; nothing was deployed', { status: 503, retryable: true, cause: error });
    }
    return { jobId: created.jobId, deploymentId: created.id, status: 'PENDING' };
  }

  private async upsertService(tx: Prisma.TransactionClient, environmentId: string, name: string) {
    const existing = await tx.service.findUnique({ where: { environmentId_name: { environmentId, name } } });
    if (existing) return existing;
    const id = newId();
    return tx.service.create({ data: { id, environmentId, name, swarmName: swarmServiceName(id) } });
  }

  /** One deployment of a service at a time: two workers updating one Swarm service would race. */
  private async assertNoBusyDeployment(tx: Prisma.TransactionClient, serviceId: string, serviceName: string): Promise<void> {
    const busy = await tx.deployment.findFirst({ where: { serviceId, status: { in: [...IN_PROGRESS_STATES] } } });
    if (busy) {
      throw conflict(`A deployment of service "${serviceName}" is already in progress (job ${busy.jobId})`, {
        details: { jobId: busy.jobId, deploymentId: busy.id, status: busy.status },
        suggestions: [`Wait for job ${busy.jobId} to finish, or delete it`],
      });
    }
  }

  /** A host port held by another service's live deployment answers 409 naming it, before anything is created. */
  private async assertHostPortsFree(tx: Prisma.TransactionClient, principal: Principal, serviceId: string, options: StoredServiceOptions): Promise<void> {
    const wanted = new Set(hostPorts(options));
    if (wanted.size === 0) return;
    const live = await tx.deployment.findMany({
      where: { status: { in: [...ACTIVE_STATES] }, serviceId: { not: serviceId } },
      select: { id: true, jobId: true, userId: true, spec: true, service: { select: { name: true } }, environment: { select: { name: true } } },
    });
    for (const holder of live) {
      const port = hostPorts(holder.spec as StoredServiceOptions).find((held) => wanted.has(held));
      if (!port) continue;
      const mine = holder.userId === principal.userId;
      throw conflict(
        mine
          ? `Host port ${port} is already used by deployment ${holder.jobId} (service "${holder.service.name}" in environment "${holder.environment.name}")`
          : `Host port ${port} is already used by another user's deployment`,
        {
          details: mine ? { port, jobId: holder.jobId, deploymentId: holder.id, service: holder.service.name, environment: holder.environment.name } : { port },
          suggestions: ['Choose another host port, or delete the deployment that holds it'],
        },
      );
    }
  }
}
