import { LABELS, type Labels } from '../../docker/swarm-gateway.js';

/**
 * Docker object names and labels of Runway's objects. Names derive from row
 * ids (globally unique), not from user-chosen names, which are only unique
 * per user or environment.
 */
export const networkName = (environmentId: string): string => `rw-env-${environmentId}`;
export const swarmServiceName = (serviceId: string): string => `rw-svc-${serviceId}`;
export const volumeDockerName = (environmentId: string, name: string): string => `rw-vol-${environmentId}-${name}`;
/** Git deployments get an image tagged per deployment, so a rollback can reuse it. */
export const builtImageTag = (serviceId: string, deploymentId: string): string => `runway-build/${serviceId}:${deploymentId}`;

export interface LabelOwner {
  /** Installation (config REDIS_PREFIX): parallel installations and tests leave each other alone. */
  instance: string;
  userId: string;
  environmentId: string;
  serviceId?: string;
  deploymentId?: string;
}

export function runwayLabels(owner: LabelOwner): Labels {
  return {
    [LABELS.managed]: 'true',
    [LABELS.instance]: owner.instance,
    [LABELS.user]: owner.userId,
    [LABELS.environment]: owner.environmentId,
    ...(owner.serviceId ? { [LABELS.service]: owner.serviceId } : {}),
    ...(owner.deploymentId ? { [LABELS.deployment]: owner.deploymentId } : {}),
  };
}
