import type { Database } from '../../db/prisma.js';
import type { LogLine, SwarmGateway } from '../../docker/swarm-gateway.js';
import { notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import { ownedBy } from '../environments/ownership.js';

export interface LogRequest {
  tail: number;
  follow: boolean;
}

/** The service logs of a deployment (stdout and stderr apart), optionally followed until `signal` aborts. */
export class DeploymentLogs {
  constructor(private readonly db: Database, private readonly gateway: SwarmGateway) {}

  /** Resolves the deployment and its Swarm service first, so a 404 comes before any streaming starts. */
  async open(principal: Principal, jobIdOrId: string, request: LogRequest, signal?: AbortSignal): Promise<AsyncIterable<LogLine>> {
    const deployment = await this.db.deployment.findFirst({
      where: { OR: [{ id: jobIdOrId }, { jobId: jobIdOrId }], ...ownedBy(principal) },
      include: { service: true },
    });
    if (!deployment) throw notFound('Deployment', { details: { id: jobIdOrId } });
    const service = await this.gateway.inspectService(deployment.service.swarmServiceId ?? deployment.service.swarmName);
    if (!service) {
      throw notFound('Service of this deployment', {
        details: { id: jobIdOrId, status: deployment.status },
        suggestions: ['The service was removed or never started; see GET /deployments/job/:jobId for why'],
      });
    }
    return this.gateway.serviceLogs(service.id, { tail: request.tail, follow: request.follow, timestamps: true }, signal);
  }
}
