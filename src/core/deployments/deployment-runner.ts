import type { Database } from '../../db/prisma.js';
import { isSwarmError } from '../../docker/swarm-errors.js';
import type { Labels, SwarmGateway } from '../../docker/swarm-gateway.js';
import type { DeploymentStatus } from '../../generated/prisma/enums.js';
import type { Logger } from '../../logging/logger.js';
import { resolveImageReference } from '../service-options-schema.js';
import { waitForConvergence } from './convergence.js';
import { DeploymentAborted, DeploymentFailure } from './deployment-failure.js';
import { newId } from './deployment-ids.js';
import type { StoredServiceOptions } from './deployment-request.js';
import { hasReached, isTerminal } from './deployment-states.js';
import type { DeploymentTransitions } from './deployment-transitions.js';
import { builtImageTag, runwayLabels, volumeDockerName } from './docker-names.js';
import { ensureImage, type PullPolicy } from './image-pull.js';
import { buildServiceSpec, type SwarmDefaults } from './service-spec.js';

/** Builds a Git deployment's image (src/git); the build directory is its business. */
export type GitImageBuilder = (input: {
  repoUrl: string;
  branch?: string;
  commitSha?: string;
  dockerfile?: string;
  tag: string;
  labels: Labels;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}) => Promise<{ image: string; log: string[] }>;

export interface DeploymentRunnerDependencies {
  db: Database;
  gateway: SwarmGateway;
  transitions: DeploymentTransitions;
  buildImage: GitImageBuilder;
  swarm: SwarmDefaults;
  pullPolicy: PullPolicy;
  convergeTimeoutMs: number;
  /** How long new tasks must have been running before the deployment counts as RUNNING. */
  stableMs: number;
  logger: Logger;
}

type LoadedDeployment = NonNullable<Awaited<ReturnType<DeploymentRunner['load']>>>;

/**
 * Moves one deployment through SPEC section 3's states. Every step is
 * idempotent and skipped when already passed, so a job taken over from a
 * killed worker resumes where the row says it was. Throws DeploymentFailure
 * for permanent failures, DeploymentAborted when someone else ended it, and
 * anything else for transient trouble the queue may retry.
 */
export class DeploymentRunner {
  constructor(private readonly deps: DeploymentRunnerDependencies) {}

  async run(deploymentId: string, signal?: AbortSignal): Promise<DeploymentStatus> {
    let deployment = await this.load(deploymentId);
    if (!deployment || isTerminal(deployment.status) || deployment.status === 'RUNNING') return deployment?.status ?? 'FAILED';
    let image: string;
    if (deployment.source === 'GIT') {
      image = await this.build(deployment, signal);
      deployment = (await this.load(deploymentId))!;
    } else {
      image = resolveImageReference(deployment.image!, deployment.tag ?? undefined);
    }
    const pullNote = await this.pull(deployment, image);
    await this.advance(deployment, 'CREATING_VOLUMES', pullNote);
    await this.createVolumes(deployment);
    await this.advance(deployment, 'STARTING_CONTAINERS');
    await this.start(deployment, image, signal);
    return 'RUNNING';
  }

  private load(deploymentId: string) {
    return this.deps.db.deployment.findUnique({ where: { id: deploymentId }, include: { service: true, environment: true } });
  }

  /** Moves forward unless the row is already there; someone else ending the deployment aborts the work. */
  private async advance(deployment: LoadedDeployment, to: DeploymentStatus, reason?: string, extra = {}): Promise<void> {
    if (hasReached(deployment.status, to)) return;
    if (await this.deps.transitions.transition(deployment.id, to, reason, extra)) {
      deployment.status = to;
      return;
    }
    const now = await this.deps.db.deployment.findUnique({ where: { id: deployment.id }, select: { status: true } });
    if (!now || isTerminal(now.status)) throw new DeploymentAborted(deployment.id, now?.status ?? 'deleted');
    deployment.status = now.status;
  }

  private async build(deployment: LoadedDeployment, signal?: AbortSignal): Promise<string> {
    const { gateway } = this.deps;
    // A rollback or a resumed job reuses the image built before, if it still exists.
    if (deployment.builtImage && (await gateway.imageExists(deployment.builtImage))) {
      await this.advance(deployment, 'PULLING_IMAGE', 'reusing the image built before', { builtImage: deployment.builtImage });
      return deployment.builtImage;
    }
    await this.advance(deployment, 'BUILDING');
    const tag = builtImageTag(deployment.serviceId, deployment.id);
    const log: string[] = [];
    const result = await this.deps
      .buildImage({
        repoUrl: deployment.repoUrl!,
        branch: deployment.branch ?? undefined,
        commitSha: deployment.commitSha ?? undefined,
        dockerfile: deployment.dockerfile ?? undefined,
        tag,
        labels: this.labels(deployment),
        onLog: (line) => log.push(line),
        signal,
      })
      .catch(async (error: unknown) => {
        // The build output is kept with the deployment, failed or not.
        await this.deps.db.deployment.update({ where: { id: deployment.id }, data: { buildLog: log.join('\n').slice(-100_000) } });
        // A clone or build that failed fails the same way when retried: the reason goes to the user.
        throw new DeploymentFailure(`The build failed: ${(error as Error).message}`, { cause: error });
      });
    await this.advance(deployment, 'PULLING_IMAGE', undefined, { builtImage: result.image, buildLog: result.log.join('\n').slice(-100_000) });
    return result.image;
  }

  private async pull(deployment: LoadedDeployment, image: string): Promise<string | undefined> {
    if (deployment.source === 'GIT') return undefined; // built here, nothing to pull
    await this.advance(deployment, 'PULLING_IMAGE');
    return ensureImage(this.deps.gateway, image, this.deps.pullPolicy);
  }

  private async createVolumes(deployment: LoadedDeployment): Promise<void> {
    const { db, gateway } = this.deps;
    for (const volume of (deployment.spec as StoredServiceOptions).volumes ?? []) {
      const dockerName = volumeDockerName(deployment.environmentId, volume.name);
      const { created } = await gateway.ensureVolume(dockerName, this.labels(deployment));
      await db.volume.upsert({
        where: { dockerName },
        create: { id: newId(), environmentId: deployment.environmentId, name: volume.name, dockerName, createdByDeploymentId: created ? deployment.id : null },
        update: {},
      });
    }
  }

  private async start(deployment: LoadedDeployment, image: string, signal?: AbortSignal): Promise<void> {
    const { db, gateway } = this.deps;
    const options = deployment.spec as StoredServiceOptions;
    const spec = buildServiceSpec(
      {
        deploymentId: deployment.id,
        userId: deployment.userId,
        environmentId: deployment.environmentId,
        networkId: deployment.environment.networkId ?? deployment.environment.networkName,
        serviceId: deployment.serviceId,
        serviceName: deployment.service.name,
        image,
        options,
      },
      this.deps.swarm,
    );
    const service = await gateway.ensureService(spec).catch((error: unknown) => {
      // The engine refusing the spec (400) will refuse it again; engine trouble is retried.
      if (isSwarmError(error) && !error.retryable) throw new DeploymentFailure(`Swarm refused the service: ${error.message}`, { cause: error });
      throw error;
    });
    await db.service.update({ where: { id: deployment.serviceId }, data: { swarmServiceId: service.id } });
    await waitForConvergence(gateway, { serviceId: service.id, deploymentId: deployment.id, timeoutMs: this.deps.convergeTimeoutMs, stableMs: this.deps.stableMs, hasHealthcheck: spec.healthcheck !== undefined, signal });
    await this.advance(deployment, 'RUNNING');
    await this.promote(deployment);
  }

  /** The new version serves: it becomes the service's current deployment and the older one SUPERSEDED. */
  private async promote(deployment: LoadedDeployment): Promise<void> {
    const { db, transitions } = this.deps;
    await db.service.update({ where: { id: deployment.serviceId }, data: { currentDeploymentId: deployment.id } });
    const older = await db.deployment.findMany({ where: { serviceId: deployment.serviceId, status: 'RUNNING', id: { not: deployment.id } }, select: { id: true } });
    for (const each of older) await transitions.transition(each.id, 'SUPERSEDED', `replaced by deployment ${deployment.jobId}`);
  }

  private labels(deployment: LoadedDeployment): Labels {
    return runwayLabels({
      instance: this.deps.swarm.instance,
      userId: deployment.userId,
      environmentId: deployment.environmentId,
      serviceId: deployment.serviceId,
      deploymentId: deployment.id,
    });
  }
}
