import type { Database } from '../../db/prisma.js';
import type { SwarmGateway } from '../../docker/swarm-gateway.js';
import type { RequestOrigin } from '../../generated/prisma/enums.js';
import { conflict, notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import { ownedBy } from '../environments/ownership.js';
import type { DeploymentRequest, StoredServiceOptions } from './deployment-request.js';
import { ACTIVE_STATES } from './deployment-states.js';
import type { DeploymentTransitions } from './deployment-transitions.js';
import type { StartDeployment, StartedDeployment } from './deployment-use-cases.js';

export interface DeploymentManagementDependencies {
  db: Database;
  gateway: SwarmGateway;
  transitions: DeploymentTransitions;
  starter: StartDeployment;
}

const withTransitions = {
  transitions: { orderBy: { at: 'asc' as const }, select: { fromStatus: true, toStatus: true, reason: true, at: true } },
  service: { select: { id: true, name: true, swarmName: true, swarmServiceId: true } },
  environment: { select: { id: true, name: true } },
};

/** Reading, rolling back and deleting deployments (SPEC section 4). */
export class DeploymentManagement {
  constructor(private readonly deps: DeploymentManagementDependencies) {}

  async getByJobId(principal: Principal, jobId: string) {
    const deployment = await this.deps.db.deployment.findFirst({ where: { jobId, ...ownedBy(principal) }, include: withTransitions });
    if (!deployment) throw notFound('Deployment', { details: { jobId } });
    return deployment;
  }

  async get(principal: Principal, id: string) {
    const deployment = await this.deps.db.deployment.findFirst({ where: { id, ...ownedBy(principal) }, include: withTransitions });
    if (!deployment) throw notFound('Deployment', { details: { id } });
    return deployment;
  }

  /** By jobId or deployment id, for chat commands that accept either. */
  async find(principal: Principal, jobIdOrId: string) {
    const deployment = await this.deps.db.deployment.findFirst({
      where: { OR: [{ jobId: jobIdOrId }, { id: jobIdOrId }], ...ownedBy(principal) },
      include: withTransitions,
    });
    if (!deployment) throw notFound('Deployment', { details: { id: jobIdOrId } });
    return deployment;
  }

  async listForEnvironment(principal: Principal, environmentId: string) {
    const environment = await this.deps.db.environment.findFirst({ where: { id: environmentId, ...ownedBy(principal) } });
    if (!environment) throw notFound('Environment', { details: { environmentId } });
    return this.deps.db.deployment.findMany({
      where: { environmentId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      include: { service: { select: { name: true } } },
    });
  }

  /**
   * Redeploys the newest version of the service, older than the given
   * deployment, that once reached RUNNING: a new deployment and job (202).
   */
  async rollback(principal: Principal, id: string, origin: RequestOrigin = 'API'): Promise<StartedDeployment & { rolledBackTo: string }> {
    const current = await this.find(principal, id);
    const target = await this.deps.db.deployment.findFirst({
      where: {
        serviceId: current.serviceId,
        id: { not: current.id },
        createdAt: { lte: current.createdAt },
        transitions: { some: { toStatus: 'RUNNING' } },
      },
      orderBy: { createdAt: 'desc' },
    });
    if (!target) {
      throw conflict(`Service "${current.service.name}" has no earlier version that ran`, {
        details: { deploymentId: current.id, service: current.service.name },
        suggestions: ['Deploy the version you want with POST /deployments'],
      });
    }
    const options = target.spec as StoredServiceOptions;
    const base = { environmentId: target.environmentId, name: current.service.name, keepOnFailure: false, ...options };
    const request: DeploymentRequest =
      target.source === 'GIT'
        ? { ...base, source: 'GIT', repoUrl: target.repoUrl!, branch: target.branch ?? undefined, commitSha: target.commitSha ?? undefined, dockerfile: target.dockerfile ?? undefined }
        : { ...base, source: 'IMAGE', image: target.image!, tag: target.tag ?? undefined };
    const started = await this.deps.starter.start(principal, request, origin, { builtImage: target.builtImage });
    return { ...started, rolledBackTo: target.jobId };
  }

  /** Stops and removes the deployment's Swarm service; its live deployments end STOPPED. */
  async delete(principal: Principal, id: string) {
    const deployment = await this.find(principal, id);
    const { db, gateway, transitions } = this.deps;
    const live = await db.deployment.findMany({ where: { serviceId: deployment.serviceId, status: { in: [...ACTIVE_STATES] } }, select: { id: true } });
    for (const each of live) await transitions.transition(each.id, 'STOPPED', 'deleted by its owner');
    await gateway.removeService(deployment.service.swarmServiceId ?? deployment.service.swarmName);
    await db.service.update({ where: { id: deployment.serviceId }, data: { currentDeploymentId: null, swarmServiceId: null } });
    return this.get(principal, deployment.id);
  }
}
