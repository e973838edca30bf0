/**
 * Turns Runway's typed ServiceSpec into the Engine API ServiceSpec (API 1.41
 * and later). Pure, so the security defaults (SPEC section 3) are unit-tested
 * without an engine.
 */
import { ALLOWED_CAPABILITIES } from '../core/service-options-schema.js';
import { SwarmError } from './swarm-errors.js';
import { LABELS, type HealthcheckSpec, type Labels, type ServiceSpec } from './swarm-gateway.js';

/** How Swarm restarts, updates and rolls back services. */
export interface DeployPolicy {
  /** RestartPolicy: on-failure, at most this many attempts per window (SPEC: 3 per minute). */
  restartMaxAttempts: number;
  restartWindowMs: number;
  restartDelayMs: number;
  /** How long Swarm watches an updated task for failure before the update counts as done. */
  updateMonitorMs: number;
}

export const DEFAULT_DEPLOY_POLICY: DeployPolicy = {
  restartMaxAttempts: 3,
  restartWindowMs: 60_000,
  restartDelayMs: 1_000,
  updateMonitorMs: 5_000,
};

const NS_PER_MS = 1_000_000;
/** Docker volume names; anything with a slash would be a host path. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The Engine API body for POST /services/create and /services/{id}/update. */
export type EngineServiceSpec = Record<string, unknown> & { Name: string; Labels: Record<string, string> };

/** Host-mode published ports cannot be held by two tasks on one node, so such updates stop the old task first. */
export function updateOrderFor(spec: Pick<ServiceSpec, 'ports' | 'publishMode'>): 'start-first' | 'stop-first' {
  const holdsHostPort = spec.publishMode === 'host' && spec.ports.some((port) => port.host !== undefined);
  return holdsHostPort ? 'stop-first' : 'start-first';
}

/** Capability names as the engine wants them (CAP_ prefix, upper case). */
export function normalizeCapability(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/**
 * Second line behind the REST/chat schemas: a spec that would weaken the
 * SPEC section 3 defaults never reaches the engine, whoever built it.
 */
export function assertSafeSpec(spec: ServiceSpec): void {
  const problems: string[] = [];
  for (const mount of spec.mounts) {
    if (!VOLUME_NAME.test(mount.source)) problems.push(`mount source ${mount.source} is not a named volume`);
    if (!mount.target.startsWith('/') || mount.target.split('/').includes('..')) problems.push(`mount target ${mount.target} must be absolute without '..'`);
  }
  for (const capability of spec.capAdd) {
    const name = normalizeCapability(capability).slice('CAP_'.length);
    if (!(ALLOWED_CAPABILITIES as readonly string[]).includes(name)) problems.push(`capability ${capability} is not allowed`);
  }
  if (!(spec.cpuLimit > 0) || !(spec.memoryLimitBytes >= 6 * 1024 * 1024)) problems.push('cpu and memory limits are required');
  if (!Number.isInteger(spec.replicas) || spec.replicas < 0) problems.push('replicas must be a whole number');
  if (problems.length > 0) throw new SwarmError('INVALID_SPEC', `service ${spec.name}: ${problems.join('; ')}`, { statusCode: 400, details: { problems } });
}

export function buildEngineServiceSpec(spec: ServiceSpec, policy: DeployPolicy = DEFAULT_DEPLOY_POLICY): EngineServiceSpec {
  assertSafeSpec(spec);
  const order = updateOrderFor(spec);
  const update = { Parallelism: 1, Delay: 0, FailureAction: 'rollback', Monitor: policy.updateMonitorMs * NS_PER_MS, MaxFailureRatio: 0, Order: order };
  return {
    Name: spec.name,
    Labels: { ...spec.labels },
    TaskTemplate: {
      ContainerSpec: buildContainerSpec(spec),
      Resources: {
        Limits: { NanoCPUs: Math.round(spec.cpuLimit * 1e9), MemoryBytes: spec.memoryLimitBytes },
      },
      RestartPolicy: {
        Condition: 'on-failure',
        Delay: policy.restartDelayMs * NS_PER_MS,
        MaxAttempts: policy.restartMaxAttempts,
        Window: policy.restartWindowMs * NS_PER_MS,
      },
      ...(spec.placement
        ? {
            Placement: {
              Constraints: spec.placement.constraints ?? [],
              Preferences: (spec.placement.preferences ?? []).map((preference) => ({ Spread: { SpreadDescriptor: preference.spread } })),
            },
          }
        : {}),
      Networks: [{ Target: spec.networkId, Aliases: [...spec.networkAliases] }],
    },
    Mode: { Replicated: { Replicas: spec.replicas } },
    UpdateConfig: update,
    RollbackConfig: { ...update, FailureAction: 'pause' },
    EndpointSpec: {
      Mode: spec.endpointMode,
      Ports: spec.ports
        .filter((port) => port.host !== undefined)
        .map((port) => ({ Protocol: port.protocol ?? 'tcp', TargetPort: port.container, PublishedPort: port.host, PublishMode: spec.publishMode })),
    },
  };
}

function buildContainerSpec(spec: ServiceSpec): Record<string, unknown> {
  return {
    Image: spec.image,
    Labels: { ...spec.labels },
    // `command` replaces the image's CMD, like `docker run IMAGE COMMAND` (the entrypoint stays).
    ...(spec.command ? { Args: [...spec.command] } : {}),
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    Mounts: spec.mounts.map((mount) => ({
      Type: 'volume',
      Source: mount.source,
      Target: mount.target,
      ReadOnly: false,
      VolumeOptions: { NoCopy: false, Labels: { ...(mount.labels ?? {}) } },
    })),
    ...(spec.healthcheck ? { Healthcheck: buildHealthcheck(spec.healthcheck) } : {}),
    CapabilityDrop: ['ALL'],
    CapabilityAdd: spec.capAdd.map(normalizeCapability),
    // Engine API 1.44+ honours this; older engines ignore the field, so the
    // daemon must run with "no-new-privileges": true (see DockerodeSwarmGateway).
    Privileges: { NoNewPrivileges: true },
    Init: true,
    StopGracePeriod: (spec.stopGracePeriodMs ?? 10_000) * NS_PER_MS,
  };
}

function buildHealthcheck(check: HealthcheckSpec): Record<string, unknown> {
  return {
    Test: [...check.test],
    Interval: (check.intervalMs ?? 5_000) * NS_PER_MS,
    Timeout: (check.timeoutMs ?? 3_000) * NS_PER_MS,
    Retries: check.retries ?? 3,
    StartPeriod: (check.startPeriodMs ?? 0) * NS_PER_MS,
  };
}

/** Runway never takes over a service it did not create (same name, no managed label). */
export function refuseForeign(spec: ServiceSpec, existingLabels: Labels | undefined): void {
  if (existingLabels === undefined || !(LABELS.managed in spec.labels) || LABELS.managed in existingLabels) return;
  throw new SwarmError('CONFLICT', `service name ${spec.name} is taken by a service Runway does not manage`, { statusCode: 409 });
}
