/**
 * The narrow Swarm interface Runway's use cases talk to (STYLE.md example 3).
 * One dockerode implementation (dockerode-swarm-gateway.ts) and one in-memory
 * fake for unit tests; a contract suite runs against both so the fake cannot
 * drift. Only a 404 from the engine means "absent".
 */
import type { Readable } from 'node:stream';

/** Labels tie every Docker object to its user, environment and deployment. */
export const LABEL_PREFIX = 'io.runway';
export const LABELS = {
  managed: `${LABEL_PREFIX}.managed`,
  user: `${LABEL_PREFIX}.user`,
  environment: `${LABEL_PREFIX}.environment`,
  service: `${LABEL_PREFIX}.service`,
  deployment: `${LABEL_PREFIX}.deployment`,
  /** Lets tests and parallel installations tell their objects apart. */
  instance: `${LABEL_PREFIX}.instance`,
} as const;

export type Labels = Record<string, string>;

export interface PortSpec {
  container: number;
  host?: number;
  protocol?: 'tcp' | 'udp';
}

export interface VolumeMount {
  /** Docker volume name (already namespaced by the caller). */
  source: string;
  target: string;
  /** Labels for the volume when a node has to create it (multi-node swarms). */
  labels?: Labels;
}

export interface HealthcheckSpec {
  /** Exec form: ["CMD", "nc", "-z", "127.0.0.1", "80"] or ["CMD-SHELL", "..."]. */
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

export interface ServiceSpec {
  name: string;
  image: string;
  labels: Labels;
  networkId: string;
  /** Other services of the environment reach this one by this alias. */
  networkAliases: string[];
  command?: string[];
  env: Record<string, string>;
  ports: PortSpec[];
  mounts: VolumeMount[];
  replicas: number;
  cpuLimit: number;
  memoryLimitBytes: number;
  capAdd: string[];
  healthcheck?: HealthcheckSpec;
  endpointMode: 'vip' | 'dnsrr';
  publishMode: 'ingress' | 'host';
  placement?: { constraints?: string[]; preferences?: { spread: string }[] };
  /** Time a task gets between SIGTERM and SIGKILL (default 10 s). */
  stopGracePeriodMs?: number;
}

export interface ServiceState {
  id: string;
  name: string;
  version: number;
  image: string;
  labels: Labels;
  replicas: number;
  /** Published ports of the current spec (host set when published). */
  ports: PortSpec[];
  /** Whether Swarm keeps a previous spec, i.e. rollbackService can work. */
  hasPreviousSpec: boolean;
  /** Swarm's UpdateStatus.State, e.g. "updating", "completed", "rollback_completed". */
  updateState?: string;
  updateMessage?: string;
  createdAt: string;
  updatedAt: string;
}

export interface TaskState {
  id: string;
  serviceId: string;
  desiredState: string;
  state: string;
  /** Task status message/error as Swarm reports it. */
  message?: string;
  error?: string;
  containerId?: string;
  /** Image of the spec this task runs (tells old from new tasks during an update). */
  image: string;
  /** Container labels of the task's spec (LABELS.deployment tells which deployment it runs). */
  labels: Labels;
  exitCode?: number;
  health?: 'healthy' | 'unhealthy' | 'starting' | 'none';
  createdAt: string;
  updatedAt: string;
}

export interface LogOptions {
  tail: number;
  follow: boolean;
  timestamps?: boolean;
  since?: number;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  timestamp?: string;
}

export interface BuildOptions {
  tag: string;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  labels: Labels;
  /** Each line of build output as it arrives. */
  onLog?: (line: string) => void;
  /** Aborts the build (the engine stops it when the connection closes). */
  signal?: AbortSignal;
}

export interface BuildResult {
  image: string;
  log: string[];
}

/**
 * Every method throws SwarmError (swarm-errors.ts) for engine trouble:
 * ENGINE_ERROR (retryable), CONFLICT, INVALID_SPEC, NOT_FOUND where the
 * object had to exist, IN_USE, IMAGE_PULL_FAILED, BUILD_FAILED. Absent
 * objects are never errors for inspect/remove.
 */
export interface SwarmGateway {
  /** Attachable overlay network, labelled; returns the existing one when the name is taken by a swarm network. */
  ensureNetwork(name: string, labels: Labels): Promise<{ id: string }>;
  /** Retries while tasks drain (bounded; then IN_USE); absent is success. */
  removeNetwork(nameOrId: string): Promise<void>;
  ensureVolume(name: string, labels: Labels): Promise<{ created: boolean }>;
  /** Retries while a stopping container still holds it (bounded; then IN_USE); absent is success. */
  removeVolume(name: string): Promise<void>;
  /**
   * Creates the service, or updates it in place with the version just read
   * (rolling, start-first unless a host-mode port is published, rollback on
   * failure). CONFLICT when the name belongs to a service without Runway's
   * managed label while the spec carries it.
   */
  ensureService(spec: ServiceSpec): Promise<ServiceState>;
  inspectService(nameOrId: string): Promise<ServiceState | undefined>;
  removeService(nameOrId: string): Promise<void>;
  /**
   * Asks Swarm to roll the service back to its previous spec (NOT_FOUND, or
   * INVALID_SPEC without one). The service then reports updateState
   * rollback_*, which assessRollout reads as a failed rollout: for a user's
   * "roll back to version N", deploy N's spec with ensureService instead.
   */
  rollbackService(nameOrId: string): Promise<void>;
  /** Replaces the service's tasks with fresh ones of its current spec (Swarm's ForceUpdate). */
  restartService(nameOrId: string): Promise<void>;
  /** Newest first; [] for an unknown service. Health comes from the container where a check exists. */
  listTasks(serviceId: string): Promise<TaskState[]>;
  imageExists(reference: string): Promise<boolean>;
  /** Pulls (name without tag means :latest); failures, also those inside the 200 stream, throw IMAGE_PULL_FAILED. */
  pullImage(reference: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Streams a tar build context to the engine's build endpoint; a failing step throws BUILD_FAILED with details.log. */
  buildImage(context: Readable, options: BuildOptions): Promise<BuildResult>;
  /** Removes the reference (only untags when other tags share the image); absent is success. */
  removeImage(reference: string): Promise<void>;
  /**
   * Demultiplexed service logs. With follow the iterator keeps going across
   * task replacements (Swarm's service log endpoint does) and ends when
   * `signal` aborts or the consumer stops iterating.
   */
  serviceLogs(serviceId: string, options: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine>;
  /** Objects carrying Runway's managed label and every `filter` label (for the orphan clean-up). */
  listManaged(filter?: Labels): Promise<{ services: ServiceState[]; networks: { id: string; name: string; labels: Labels }[]; volumes: { name: string; labels: Labels }[] }>;
}
