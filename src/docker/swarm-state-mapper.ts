/**
 * Maps Engine API objects (services, tasks) to the gateway's ServiceState and
 * TaskState. Kept apart from the gateway so the gateway holds only calls.
 */
import type { PortSpec, ServiceState, TaskState } from './swarm-gateway.js';

interface EngineService {
  ID: string;
  Version?: { Index?: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number } };
    TaskTemplate?: { ContainerSpec?: { Image?: string }; ForceUpdate?: number };
    EndpointSpec?: { Ports?: { TargetPort?: number; PublishedPort?: number; Protocol?: string }[] };
  };
  PreviousSpec?: unknown;
  UpdateStatus?: { State?: string; Message?: string };
}

interface EngineTask {
  ID: string;
  ServiceID?: string;
  DesiredState?: string;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: { ContainerSpec?: { Image?: string; Labels?: Record<string, string>; Healthcheck?: { Test?: string[] } } };
  Status?: { Timestamp?: string; State?: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

export function toServiceState(service: EngineService): ServiceState {
  const spec = service.Spec ?? {};
  const ports: PortSpec[] = (spec.EndpointSpec?.Ports ?? []).map((port) => ({
    container: port.TargetPort ?? 0,
    ...(port.PublishedPort ? { host: port.PublishedPort } : {}),
    protocol: port.Protocol === 'udp' ? 'udp' : 'tcp',
  }));
  return {
    id: service.ID,
    name: spec.Name ?? '',
    version: service.Version?.Index ?? 0,
    image: spec.TaskTemplate?.ContainerSpec?.Image ?? '',
    labels: spec.Labels ?? {},
    replicas: spec.Mode?.Replicated?.Replicas ?? 0,
    ports,
    hasPreviousSpec: service.PreviousSpec !== undefined && service.PreviousSpec !== null,
    ...(service.UpdateStatus?.State ? { updateState: service.UpdateStatus.State } : {}),
    ...(service.UpdateStatus?.Message ? { updateMessage: service.UpdateStatus.Message } : {}),
    createdAt: service.CreatedAt ?? '',
    updatedAt: service.UpdatedAt ?? '',
  };
}

/** Whether the task's spec carries a health check that is not disabled. */
export function taskHasHealthcheck(task: EngineTask): boolean {
  const test = task.Spec?.ContainerSpec?.Healthcheck?.Test;
  return Array.isArray(test) && test.length > 0 && test[0] !== 'NONE';
}

/** What the container itself says, when the gateway looked (see DockerodeSwarmGateway.observeContainer). */
export interface ContainerObservation {
  health?: TaskState['health'];
  /** Set when the container already exited although Swarm still reports the task running. */
  exitCode?: number;
}

export function toTaskState(task: EngineTask, observed: ContainerObservation = {}): TaskState {
  const status = task.Status ?? {};
  const containerId = status.ContainerStatus?.ContainerID;
  const exitCode = observed.exitCode ?? status.ContainerStatus?.ExitCode;
  const state: TaskState = {
    id: task.ID,
    serviceId: task.ServiceID ?? '',
    desiredState: task.DesiredState ?? '',
    state: status.State ?? 'unknown',
    ...(status.Message ? { message: status.Message } : {}),
    ...(status.Err ? { error: status.Err } : {}),
    ...(containerId ? { containerId } : {}),
    image: task.Spec?.ContainerSpec?.Image ?? '',
    labels: task.Spec?.ContainerSpec?.Labels ?? {},
    ...(typeof exitCode === 'number' && containerId ? { exitCode } : {}),
    ...(observed.health ? { health: observed.health } : {}),
    createdAt: task.CreatedAt ?? '',
    // Status.Timestamp is when the task entered its current state.
    updatedAt: status.Timestamp ?? task.UpdatedAt ?? '',
  };
  if (observed.exitCode === undefined) return state;
  // The container exited before Swarm noticed: report what Swarm is about to report.
  const { health: _health, ...rest } = state;
  // Swarm's own wording, so the reason reads the same whichever view came first.
  const unhealthy = observed.health === 'unhealthy' ? ': dockerexec: unhealthy container' : '';
  return observed.exitCode === 0 && !unhealthy
    ? { ...rest, state: 'complete', message: 'finished' }
    : { ...rest, state: 'failed', error: `task: non-zero exit (${observed.exitCode})${unhealthy}`, message: 'started' };
}

export type { EngineService, EngineTask };
