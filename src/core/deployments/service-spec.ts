import type { ServiceSpec } from '../../docker/swarm-gateway.js';
import type { StoredServiceOptions } from './deployment-request.js';
import { runwayLabels, swarmServiceName, volumeDockerName } from './docker-names.js';

/** Swarm settings from configuration (SWARM_*). */
export interface SwarmDefaults {
  instance: string;
  endpointMode: 'vip' | 'dnsrr';
  publishMode: 'ingress' | 'host';
  cpu: number;
  memoryMb: number;
}

export interface SpecSubject {
  deploymentId: string;
  userId: string;
  environmentId: string;
  networkId: string;
  serviceId: string;
  serviceName: string;
  image: string;
  options: StoredServiceOptions;
}

const toMs = (seconds: number | undefined) => (seconds === undefined ? undefined : Math.round(seconds * 1000));

/**
 * The typed Swarm spec of one deployment: SPEC section 3 defaults for limits;
 * named volumes only; the service name as the network alias so other
 * services of the environment reach it by name. Restart policy, capability
 * drop and no-new-privileges are the gateway's fixed part of every spec.
 */
export function buildServiceSpec(subject: SpecSubject, defaults: SwarmDefaults): ServiceSpec {
  const { options } = subject;
  const health = options.healthcheck;
  return {
    name: swarmServiceName(subject.serviceId),
    image: subject.image,
    labels: runwayLabels({
      instance: defaults.instance,
      userId: subject.userId,
      environmentId: subject.environmentId,
      serviceId: subject.serviceId,
      deploymentId: subject.deploymentId,
    }),
    networkId: subject.networkId,
    networkAliases: [subject.serviceName],
    command: options.command,
    env: options.envVars ?? {},
    ports: (options.ports ?? []).map((port) => ({ container: port.container, host: port.host, protocol: port.protocol ?? 'tcp' })),
    mounts: (options.volumes ?? []).map((volume) => ({ source: volumeDockerName(subject.environmentId, volume.name), target: volume.mountPath })),
    replicas: options.replicas ?? 1,
    cpuLimit: options.cpuLimit ?? defaults.cpu,
    memoryLimitBytes: Math.round((options.memoryLimit ?? defaults.memoryMb) * 1024 * 1024),
    capAdd: options.capAdd ?? [],
    healthcheck: health
      ? {
          test: health.test,
          intervalMs: toMs(health.intervalSeconds),
          timeoutMs: toMs(health.timeoutSeconds),
          retries: health.retries,
          startPeriodMs: toMs(health.startPeriodSeconds),
        }
      : undefined,
    endpointMode: defaults.endpointMode,
    publishMode: defaults.publishMode,
    placement: options.placement,
  };
}
