/**
 * The one dockerode implementation of SwarmGateway. Every engine call goes
 * through here: only a 404 means "absent", updates always carry the service
 * version, pull and build failures are read out of their 200 streams.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { Logger } from '../logging/logger.js';
import { demuxLogLines } from './docker-log-stream.js';
import { followProgress } from './docker-progress.js';
import { buildEngineServiceSpec, DEFAULT_DEPLOY_POLICY, refuseForeign, type DeployPolicy } from './service-spec-builder.js';
import { isNotFound, statusCodeOf, SwarmError, toSwarmError, engineMessage } from './swarm-errors.js';
import {
  LABELS,
  type BuildOptions,
  type BuildResult,
  type Labels,
  type LogLine,
  type LogOptions,
  type ServiceSpec,
  type ServiceState,
  type SwarmGateway,
  type TaskState,
} from './swarm-gateway.js';
import { taskHasHealthcheck, toServiceState, toTaskState, type ContainerObservation, type EngineService, type EngineTask } from './swarm-state-mapper.js';

export interface DockerodeSwarmGatewayOptions {
  policy?: Partial<DeployPolicy>;
  /** How long removeNetwork/removeVolume retry while tasks drain. */
  removeRetryMs?: number;
  /** How often a log follow checks that its service still exists (default 2 s). */
  logWatchMs?: number;
  logger?: Logger;
}

const RETRY_INTERVAL_MS = 250;
/** Tasks that changed state this recently get their container checked (see observeContainer). */
const RECENT_TASK_MS = 15_000;
/** Lines of build output kept in a BUILD_FAILED error's details. */
const BUILD_ERROR_TAIL = 20;

export class DockerodeSwarmGateway implements SwarmGateway {
  private readonly policy: DeployPolicy;
  private readonly removeRetryMs: number;
  private readonly logWatchMs: number;
  private securityChecked = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerodeSwarmGatewayOptions = {},
  ) {
    this.policy = { ...DEFAULT_DEPLOY_POLICY, ...options.policy };
    this.removeRetryMs = options.removeRetryMs ?? 20_000;
    this.logWatchMs = options.logWatchMs ?? 2_000;
  }

  async ensureNetwork(name: string, labels: Labels): Promise<{ id: string }> {
    const existing = await this.findNetwork(name);
    if (existing) return { id: existing.Id };
    try {
      const network = await this.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: labels });
      return { id: network.id };
    } catch (error) {
      // A concurrent ensureNetwork created it first: that one is ours too.
      const raced = statusCodeOf(error) === 409 ? await this.findNetwork(name) : undefined;
      if (raced) return { id: raced.Id };
      throw toSwarmError(error, `create network ${name}`);
    }
  }

  async removeNetwork(nameOrId: string): Promise<void> {
    await this.retryWhileBusy(`remove network ${nameOrId}`, async () => {
      try {
        await this.docker.getNetwork(nameOrId).remove();
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      // The engine can answer 404 while the network still exists as tasks drain (ENVIRONMENT.md).
      const still = await this.docker.listNetworks({ filters: { id: [nameOrId] } });
      const byName = await this.findNetwork(nameOrId);
      if (still.some((network) => network.Id === nameOrId) || byName) throw new SwarmError('IN_USE', `network ${nameOrId} still exists`);
    });
  }

  async ensureVolume(name: string, labels: Labels): Promise<{ created: boolean }> {
    try {
      await this.docker.getVolume(name).inspect();
      return { created: false };
    } catch (error) {
      if (!isNotFound(error)) throw toSwarmError(error, `inspect volume ${name}`);
    }
    try {
      await this.docker.createVolume({ Name: name, Labels: labels });
      return { created: true };
    } catch (error) {
      throw toSwarmError(error, `create volume ${name}`);
    }
  }

  async removeVolume(name: string): Promise<void> {
    await this.retryWhileBusy(`remove volume ${name}`, async () => {
      try {
        await this.docker.getVolume(name).remove();
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }

  async ensureService(spec: ServiceSpec): Promise<ServiceState> {
    await this.checkSecurityOnce();
    const body = buildEngineServiceSpec(spec, this.policy);
    for (let attempt = 1; ; attempt += 1) {
      const existing = await this.inspectEngineService(spec.name);
      refuseForeign(spec, existing?.Spec?.Labels);
      try {
        if (existing) {
          // Always the version we read: Swarm refuses an update of a spec that moved on.
          await this.docker.getService(existing.ID).update({ _query: { version: existing.Version?.Index }, _body: body });
        } else {
          await this.docker.createService(body as unknown as Docker.CreateServiceOptions);
        }
        break;
      } catch (error) {
        if (attempt < 3 && (await this.movedOn(spec.name, existing))) continue;
        throw toSwarmError(error, `${existing ? 'update' : 'create'} service ${spec.name}`);
      }
    }
    const state = await this.inspectService(spec.name);
    if (!state) throw new SwarmError('ENGINE_ERROR', `service ${spec.name} vanished right after it was written`, { retryable: true });
    return state;
  }

  async inspectService(nameOrId: string): Promise<ServiceState | undefined> {
    const service = await this.inspectEngineService(nameOrId);
    return service ? toServiceState(service) : undefined;
  }

  async removeService(nameOrId: string): Promise<void> {
    try {
      await this.docker.getService(nameOrId).remove();
    } catch (error) {
      if (!isNotFound(error)) throw toSwarmError(error, `remove service ${nameOrId}`);
    }
  }

  async rollbackService(nameOrId: string): Promise<void> {
    const service = await this.inspectEngineService(nameOrId);
    if (!service) throw new SwarmError('NOT_FOUND', `service ${nameOrId} not found`, { statusCode: 404 });
    if (!service.PreviousSpec) throw new SwarmError('INVALID_SPEC', `service ${nameOrId} has no previous version to roll back to`);
    try {
      await this.docker.getService(service.ID).update({ _query: { version: service.Version?.Index, rollback: 'previous' }, _body: service.Spec });
    } catch (error) {
      throw toSwarmError(error, `roll back service ${nameOrId}`);
    }
  }

  async restartService(nameOrId: string): Promise<void> {
    const service = await this.inspectEngineService(nameOrId);
    if (!service?.Spec) throw new SwarmError('NOT_FOUND', `service ${nameOrId} not found`, { statusCode: 404 });
    const template = service.Spec.TaskTemplate ?? {};
    const spec = { ...service.Spec, TaskTemplate: { ...template, ForceUpdate: (template.ForceUpdate ?? 0) + 1 } };
    try {
      await this.docker.getService(service.ID).update({ _query: { version: service.Version?.Index }, _body: spec });
    } catch (error) {
      throw toSwarmError(error, `restart service ${nameOrId}`);
    }
  }

  async listTasks(serviceId: string): Promise<TaskState[]> {
    let tasks: EngineTask[];
    try {
      tasks = (await this.docker.listTasks({ filters: { service: [serviceId] } })) as EngineTask[];
    } catch (error) {
      if (isNotFound(error)) return [];
      throw toSwarmError(error, `list tasks of ${serviceId}`);
    }
    const states = await Promise.all(tasks.map(async (task) => toTaskState(task, await this.observeContainer(task))));
    return states.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async imageExists(reference: string): Promise<boolean> {
    try {
      await this.docker.getImage(reference).inspect();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw toSwarmError(error, `inspect image ${reference}`);
    }
  }

  async pullImage(reference: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(withTag(reference), { abortSignal: options.signal });
    } catch (error) {
      throw new SwarmError('IMAGE_PULL_FAILED', `pull ${reference}: ${engineMessage(error)}`, { statusCode: statusCodeOf(error), cause: error });
    }
    const outcome = await followProgress(this.docker, stream).catch((error: unknown) => {
      throw new SwarmError('IMAGE_PULL_FAILED', `pull ${reference}: ${engineMessage(error)}`, { retryable: true, cause: error });
    });
    if (outcome.error !== undefined) throw new SwarmError('IMAGE_PULL_FAILED', `pull ${reference}: ${outcome.error}`);
  }

  async buildImage(context: Readable, options: BuildOptions): Promise<BuildResult> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(context, {
        t: options.tag,
        dockerfile: options.dockerfile,
        labels: options.labels,
        rm: true,
        forcerm: true,
        abortSignal: options.signal,
      } as Docker.ImageBuildOptions);
    } catch (error) {
      throw new SwarmError('BUILD_FAILED', `build ${options.tag}: ${engineMessage(error)}`, { statusCode: statusCodeOf(error), cause: error });
    }
    const outcome = await followProgress(this.docker, stream, options.onLog).catch((error: unknown) => {
      throw new SwarmError('BUILD_FAILED', `build ${options.tag}: ${engineMessage(error)}`, { cause: error });
    });
    if (outcome.error !== undefined) {
      const tail = outcome.lines.slice(-BUILD_ERROR_TAIL);
      throw new SwarmError('BUILD_FAILED', `build ${options.tag} failed: ${outcome.error}`, { details: { log: tail } });
    }
    return { image: options.tag, log: outcome.lines };
  }

  async removeImage(reference: string): Promise<void> {
    try {
      await this.docker.getImage(reference).remove({ force: true });
    } catch (error) {
      if (!isNotFound(error)) throw toSwarmError(error, `remove image ${reference}`);
    }
  }

  async *serviceLogs(serviceId: string, options: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    if (signal?.aborted) return;
    const query = { stdout: true, stderr: true, tail: options.tail, timestamps: options.timestamps ?? false, since: options.since ?? 0, details: false };
    let source: Buffer | NodeJS.ReadableStream;
    try {
      const service = this.docker.getService(serviceId) as unknown as { logs(options: object): Promise<Buffer | NodeJS.ReadableStream> };
      source = await service.logs({ ...query, follow: options.follow, abortSignal: signal });
    } catch (error) {
      if (signal?.aborted) return;
      throw toSwarmError(error, `logs of ${serviceId}`);
    }
    if (Buffer.isBuffer(source)) {
      yield* demuxLogLines([source], options);
      return;
    }
    const stream = source as Readable;
    const stop = () => stream.destroy();
    signal?.addEventListener('abort', stop, { once: true });
    // The engine keeps a follow open after the service is removed; end it ourselves.
    let serviceGone = false;
    const watch = setInterval(() => {
      this.inspectEngineService(serviceId).then(
        (service) => {
          if (service) return;
          serviceGone = true;
          stop();
        },
        () => undefined,
      );
    }, this.logWatchMs);
    try {
      yield* demuxLogLines(stream, options);
    } catch (error) {
      if (!signal?.aborted && !serviceGone) throw toSwarmError(error, `logs of ${serviceId}`);
    } finally {
      clearInterval(watch);
      signal?.removeEventListener('abort', stop);
      stream.destroy();
    }
  }

  async listManaged(filter: Labels = {}): ReturnType<SwarmGateway['listManaged']> {
    const label = [LABELS.managed, ...Object.entries(filter).map(([key, value]) => `${key}=${value}`)];
    try {
      const [services, networks, volumes] = await Promise.all([
        this.docker.listServices({ filters: { label } }),
        this.docker.listNetworks({ filters: { label } }),
        this.docker.listVolumes({ filters: { label } }),
      ]);
      return {
        services: (services as EngineService[]).map(toServiceState),
        networks: networks.map((network) => ({ id: network.Id, name: network.Name, labels: network.Labels ?? {} })),
        volumes: (volumes.Volumes ?? []).map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} })),
      };
    } catch (error) {
      throw toSwarmError(error, 'list managed objects');
    }
  }

  private async findNetwork(name: string): Promise<Docker.NetworkInspectInfo | undefined> {
    try {
      // The name filter matches substrings; keep the exact swarm-scoped one.
      const networks = await this.docker.listNetworks({ filters: { name: [name] } });
      return networks.find((network) => network.Name === name && network.Scope === 'swarm');
    } catch (error) {
      throw toSwarmError(error, `list networks named ${name}`);
    }
  }

  private async inspectEngineService(nameOrId: string): Promise<EngineService | undefined> {
    try {
      return (await this.docker.getService(nameOrId).inspect()) as EngineService;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toSwarmError(error, `inspect service ${nameOrId}`);
    }
  }

  /** Whether the service appeared, vanished or changed version since `seen`: then a write may be retried. */
  private async movedOn(name: string, seen: EngineService | undefined): Promise<boolean> {
    const now = await this.inspectEngineService(name);
    if (!seen || !now) return seen !== now;
    return now.Version?.Index !== seen.Version?.Index;
  }

  /**
   * The container's own view, for tasks that have a health check or entered
   * their state recently: its health, and whether it already exited. Swarm's
   * task state lags the container by a moment, and a command that crashes at
   * once would otherwise look "running" to whoever polls in that moment.
   */
  private async observeContainer(task: EngineTask): Promise<ContainerObservation | undefined> {
    const containerId = task.Status?.ContainerStatus?.ContainerID;
    if (!containerId || !['starting', 'running'].includes(task.Status?.State ?? '')) return undefined;
    const since = Date.parse(task.Status?.Timestamp ?? task.UpdatedAt ?? '');
    const recent = !(Date.now() - since > RECENT_TASK_MS);
    if (!recent && !taskHasHealthcheck(task)) return undefined;
    try {
      const container = await this.docker.getContainer(containerId).inspect();
      const status = container.State?.Health?.Status;
      const health = !taskHasHealthcheck(task) ? undefined : status === 'healthy' || status === 'unhealthy' || status === 'starting' ? status : 'none';
      const exited = container.State && !container.State.Running && !container.State.Restarting && container.State.Status === 'exited';
      return { ...(health ? { health } : {}), ...(exited ? { exitCode: container.State.ExitCode } : {}) };
    } catch (error) {
      // 404: the container is on another node or already gone; Swarm's word stands.
      if (isNotFound(error)) return undefined;
      throw toSwarmError(error, `inspect container ${containerId}`);
    }
  }

  /** Runs `attempt` until it succeeds, retrying conflicts and "in use" until removeRetryMs passed. */
  private async retryWhileBusy(action: string, attempt: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.removeRetryMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        const status = statusCodeOf(error);
        const busy = error instanceof SwarmError ? error.code === 'IN_USE' : status === 409 || status === 403 || status === 500;
        if (!busy) throw toSwarmError(error, action);
        if (Date.now() >= deadline) throw new SwarmError('IN_USE', `${action}: still in use after ${this.removeRetryMs} ms (${engineMessage(error)})`, { retryable: true, cause: error });
        await sleep(RETRY_INTERVAL_MS);
      }
    }
  }

  /**
   * Engine API 1.44 added ContainerSpec.Privileges.NoNewPrivileges; older
   * engines (Debian's 20.10 speaks 1.41) drop the field silently, so there the
   * daemon itself must set "no-new-privileges": true. Warn once when neither holds.
   */
  private async checkSecurityOnce(): Promise<void> {
    if (this.securityChecked) return;
    this.securityChecked = true;
    try {
      const [version, info] = await Promise.all([this.docker.version(), this.docker.info() as Promise<{ SecurityOptions?: string[] }>]);
      const specSupported = compareApiVersions(version.ApiVersion, '1.44') >= 0;
      const daemonWide = (info.SecurityOptions ?? []).some((option) => option.includes('no-new-privileges'));
      if (!specSupported && !daemonWide) {
        this.options.logger?.warn(
          { apiVersion: version.ApiVersion },
          'engine API < 1.44 ignores the service no-new-privileges flag; set "no-new-privileges": true in /etc/docker/daemon.json',
        );
      }
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'could not check the engine security options');
    }
  }
}

/** `name` -> `name:latest`, so a pull never fetches every tag of a repository. */
function withTag(reference: string): string {
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  return reference.includes('@') || lastSegment.includes(':') ? reference : `${reference}:latest`;
}

function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
