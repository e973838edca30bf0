import type { Database } from '../../db/prisma.js';
import type { SwarmGateway } from '../../docker/swarm-gateway.js';
import { Prisma } from '../../generated/prisma/client.js';
import type { Logger } from '../../logging/logger.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import { newId } from '../deployments/deployment-ids.js';
import { ACTIVE_STATES } from '../deployments/deployment-states.js';
import type { DeploymentTransitions } from '../deployments/deployment-transitions.js';
import { networkName, runwayLabels } from '../deployments/docker-names.js';
import { environmentName } from '../deployments/deployment-request.js';
import type { EnvironmentHooks } from './environment-hooks.js';
import { environmentByIdOrName, ownedBy } from './ownership.js';
import { removeVolumeWithRetry } from './volume-removal.js';

export interface EnvironmentDependencies {
  db: Database;
  gateway: SwarmGateway;
  transitions: DeploymentTransitions;
  hooks: EnvironmentHooks;
  /** Docker label value of this installation (config REDIS_PREFIX). */
  instance: string;
  logger: Logger;
}

/** Create, list, get and delete environments (issue 4, SPEC section 4). */
export class EnvironmentUseCases {
  constructor(private readonly deps: EnvironmentDependencies) {}

  async create(principal: Principal, input: { name: string }) {
    const name = environmentName.parse(input.name);
    const { db, gateway } = this.deps;
    const id = newId();
    try {
      await db.environment.create({ data: { id, userId: principal.userId, name, networkName: networkName(id) } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw conflict(`You already have an environment named "${name}"`, {
          details: { name },
          suggestions: ['Pick another name, or use the existing environment'],
        });
      }
      throw error;
    }
    try {
      const network = await gateway.ensureNetwork(networkName(id), runwayLabels({ instance: this.deps.instance, userId: principal.userId, environmentId: id }));
      return await db.environment.update({ where: { id }, data: { networkId: network.id } });
    } catch (error) {
      await db.environment.delete({ where: { id } }).catch(() => undefined);
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'The environment network could not be created', { status: 503, retryable: true, cause: error });
    }
  }

  list(principal: Principal) {
    return this.deps.db.environment.findMany({ where: ownedBy(principal), orderBy: { createdAt: 'asc' } });
  }

  async get(principal: Principal, id: string) {
    const environment = await this.deps.db.environment.findFirst({
      where: { id, ...ownedBy(principal) },
      include: {
        services: { include: { currentDeployment: { select: { id: true, jobId: true, status: true, image: true, tag: true, builtImage: true } } } },
        // Why a domain FAILED (or what it waits for) is part of its state (issue 5).
        domains: { select: { id: true, hostname: true, serviceId: true, port: true, status: true, reason: true } },
      },
    });
    if (!environment) throw notFound('Environment', { details: { id } });
    return environment;
  }

  /** Looks an environment up by id or, for chat commands, by name. */
  async find(principal: Principal, idOrName: string) {
    const environment = await this.deps.db.environment.findFirst({
      where: environmentByIdOrName(principal, idOrName),
    });
    if (!environment) throw notFound('Environment', { details: { environment: idOrName } });
    return environment;
  }

  /**
   * Removes the services (their deployments end STOPPED), lets hooks drop
   * routes of its domains, removes the network (retrying while tasks drain)
   * and, when asked, the volumes; then the rows.
   */
  async delete(principal: Principal, id: string, options: { volumes?: boolean } = {}): Promise<void> {
    const environment = await this.get(principal, id);
    const { db, gateway, transitions, logger } = this.deps;
    const active = await db.deployment.findMany({ where: { environmentId: id, status: { in: [...ACTIVE_STATES] } }, select: { id: true } });
    for (const deployment of active) await transitions.transition(deployment.id, 'STOPPED', 'environment deleted');
    for (const service of environment.services) await gateway.removeService(service.swarmServiceId ?? service.swarmName);
    // Services a crashed worker created before its row was updated still carry the environment label.
    const leftovers = await gateway.listManaged({ 'io.runway.environment': id });
    for (const service of leftovers.services) await gateway.removeService(service.id);
    await this.deps.hooks.runDeleting(
      { id, userId: environment.userId, name: environment.name, domains: environment.domains },
      (error) => logger.error({ err: error, environmentId: id }, 'environment deletion hook failed'),
    );
    await gateway.removeNetwork(environment.networkId ?? environment.networkName).catch((error: unknown) => {
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'The environment network is still in use; its services were removed, try the deletion again', {
        status: 503, retryable: true, cause: error, details: { environmentId: id },
      });
    });
    if (options.volumes) {
      const volumes = await db.volume.findMany({ where: { environmentId: id } });
      for (const volume of volumes) await removeVolumeWithRetry(gateway, volume.dockerName);
    }
    await db.environment.delete({ where: { id } });
  }
}
