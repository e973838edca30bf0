/**
 * An in-memory SwarmGateway for fast unit tests of use cases. It follows the
 * same contract suite as the dockerode gateway (test/docker/). Tasks move on
 * lazily with time: created tasks become running (or fail) `taskStartMs`
 * after they were created; commands and health checks are simulated with the
 * script language of in-memory-simulation.ts (`sh -c 'echo hi; exit 3'`).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { healthcheckFails, readTarContext, simulateBuild, simulateCommand } from './in-memory-simulation.js';
import { assertSafeSpec, refuseForeign } from './service-spec-builder.js';
import { SwarmError } from './swarm-errors.js';
import { LABELS, type BuildOptions, type BuildResult, type Labels, type LogLine, type LogOptions, type ServiceSpec, type ServiceState, type SwarmGateway, type TaskState } from './swarm-gateway.js';

export interface InMemorySwarmGatewayOptions {
  /** Time from task creation to running (or failing). Default 20 ms. */
  taskStartMs?: number;
  /** Images present "locally" from the start. */
  localImages?: string[];
  /** Images a pull can fetch; anything else fails to pull. */
  registryImages?: string[];
  /** Failed tasks after which Swarm stops restarting (RestartPolicy MaxAttempts). Default 3. */
  restartMaxAttempts?: number;
  /** How long removeNetwork/removeVolume wait for users to go. Default 200 ms. */
  removeRetryMs?: number;
}

interface ServiceRecord {
  id: string;
  spec: ServiceSpec;
  previous?: ServiceSpec;
  version: number;
  createdAt: string;
  updatedAt: string;
  updateState?: string;
  updateMessage?: string;
  generation: number;
}

interface TaskRecord extends TaskState {
  readyAt: number;
  spec: ServiceSpec;
  generation: number;
}

const newId = () => randomBytes(13).toString('hex').slice(0, 25);
const iso = (ms: number) => new Date(ms).toISOString();

export class InMemorySwarmGateway implements SwarmGateway {
  /** Knob: when set, every call fails as if the engine were down. */
  engineDown = false;
  readonly localImages: Map<string, Labels>;
  readonly registryImages: Set<string>;
  private readonly networks = new Map<string, { id: string; name: string; labels: Labels }>();
  private readonly volumes = new Map<string, Labels>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly tasks = new Map<string, TaskRecord[]>();
  private readonly logs = new Map<string, (LogLine & { at: number })[]>();
  private readonly taskStartMs: number;
  private readonly restartMaxAttempts: number;
  private readonly removeRetryMs: number;

  constructor(options: InMemorySwarmGatewayOptions = {}) {
    this.localImages = new Map((options.localImages ?? ['local/busybox:1']).map((image) => [image, {}]));
    this.registryImages = new Set(options.registryImages ?? []);
    this.taskStartMs = options.taskStartMs ?? 20;
    this.restartMaxAttempts = options.restartMaxAttempts ?? 3;
    this.removeRetryMs = options.removeRetryMs ?? 200;
  }

  /** Knob: adds log lines to a running service, as if its process printed them. */
  emitLog(serviceId: string, line: string, stream: LogLine['stream'] = 'stdout'): void {
    this.appendLogs(this.requireService(serviceId).id, [{ stream, line }], Date.now());
  }

  async ensureNetwork(name: string, labels: Labels): Promise<{ id: string }> {
    this.checkEngine();
    const existing = [...this.networks.values()].find((network) => network.name === name);
    if (existing) return { id: existing.id };
    const network = { id: newId(), name, labels: { ...labels } };
    this.networks.set(network.id, network);
    return { id: network.id };
  }

  async removeNetwork(nameOrId: string): Promise<void> {
    this.checkEngine();
    const network = [...this.networks.values()].find((candidate) => candidate.id === nameOrId || candidate.name === nameOrId);
    if (!network) return;
    await this.waitUntilUnused(`network ${nameOrId}`, () => [...this.services.values()].some((service) => service.spec.networkId === network.id));
    this.networks.delete(network.id);
  }

  async ensureVolume(name: string, labels: Labels): Promise<{ created: boolean }> {
    this.checkEngine();
    if (this.volumes.has(name)) return { created: false };
    this.volumes.set(name, { ...labels });
    return { created: true };
  }

  async removeVolume(name: string): Promise<void> {
    this.checkEngine();
    if (!this.volumes.has(name)) return;
    await this.waitUntilUnused(`volume ${name}`, () => [...this.services.values()].some((service) => service.spec.mounts.some((mount) => mount.source === name)));
    this.volumes.delete(name);
  }

  async ensureService(spec: ServiceSpec): Promise<ServiceState> {
    this.checkEngine();
    assertSafeSpec(spec);
    if (![...this.networks.values()].some((network) => network.id === spec.networkId || network.name === spec.networkId)) {
      throw new SwarmError('NOT_FOUND', `create service ${spec.name}: network ${spec.networkId} not found`, { statusCode: 404 });
    }
    const now = Date.now();
    const existing = this.findService(spec.name);
    if (!existing) {
      const record: ServiceRecord = { id: newId(), spec: clone(spec), version: 1, createdAt: iso(now), updatedAt: iso(now), generation: 1 };
      this.services.set(record.id, record);
      this.tasks.set(record.id, []);
      this.spawnTasks(record, spec.replicas, now);
      return this.toState(record);
    }
    refuseForeign(spec, existing.spec.labels);
    this.advance(existing);
    this.replaceSpec(existing, clone(spec), now, 'updating');
    return this.toState(existing);
  }

  async inspectService(nameOrId: string): Promise<ServiceState | undefined> {
    this.checkEngine();
    const record = this.findService(nameOrId);
    if (!record) return undefined;
    this.advance(record);
    return this.toState(record);
  }

  async removeService(nameOrId: string): Promise<void> {
    this.checkEngine();
    const record = this.findService(nameOrId);
    if (!record) return;
    this.services.delete(record.id);
    this.tasks.delete(record.id);
    this.logs.delete(record.id);
  }

  async rollbackService(nameOrId: string): Promise<void> {
    this.checkEngine();
    const record = this.findService(nameOrId);
    if (!record) throw new SwarmError('NOT_FOUND', `service ${nameOrId} not found`, { statusCode: 404 });
    if (!record.previous) throw new SwarmError('INVALID_SPEC', `service ${nameOrId} has no previous version to roll back to`);
    this.advance(record);
    this.replaceSpec(record, record.previous, Date.now(), 'rollback_completed');
    record.updateMessage = 'manually requested rollback';
  }

  async restartService(nameOrId: string): Promise<void> {
    this.checkEngine();
    const record = this.findService(nameOrId);
    if (!record) throw new SwarmError('NOT_FOUND', `service ${nameOrId} not found`, { statusCode: 404 });
    this.advance(record);
    this.replaceSpec(record, record.spec, Date.now(), 'updating');
  }

  async listTasks(serviceId: string): Promise<TaskState[]> {
    this.checkEngine();
    const record = this.findService(serviceId);
    if (!record) return [];
    this.advance(record);
    return (this.tasks.get(record.id) ?? []).map(({ readyAt: _readyAt, spec: _spec, generation: _generation, ...task }) => ({ ...task })).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async imageExists(reference: string): Promise<boolean> {
    this.checkEngine();
    return this.localImages.has(reference);
  }

  async pullImage(reference: string): Promise<void> {
    this.checkEngine();
    if (!this.registryImages.has(reference)) {
      throw new SwarmError('IMAGE_PULL_FAILED', `pull ${reference}: pull access denied for ${reference}, repository does not exist or may require 'docker login'`);
    }
    this.localImages.set(reference, {});
  }

  async buildImage(context: Readable, options: BuildOptions): Promise<BuildResult> {
    this.checkEngine();
    if (options.signal?.aborted) throw new SwarmError('BUILD_FAILED', `build ${options.tag}: aborted`);
    const files = await readTarContext(context);
    const outcome = simulateBuild(files, options.dockerfile, (reference) => this.localImages.has(reference));
    for (const line of outcome.log) options.onLog?.(line);
    if (outcome.error !== undefined) {
      options.onLog?.(outcome.error);
      const log = [...outcome.log, outcome.error];
      throw new SwarmError('BUILD_FAILED', `build ${options.tag} failed: ${outcome.error}`, { details: { log: log.slice(-20) } });
    }
    this.localImages.set(options.tag, { ...options.labels });
    return { image: options.tag, log: outcome.log };
  }

  async removeImage(reference: string): Promise<void> {
    this.checkEngine();
    this.localImages.delete(reference);
  }

  async *serviceLogs(serviceId: string, options: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    this.checkEngine();
    const record = this.findService(serviceId);
    if (!record) throw new SwarmError('NOT_FOUND', `logs of ${serviceId}: service not found`, { statusCode: 404 });
    this.advance(record);
    const sinceMs = (options.since ?? 0) * 1000;
    const all = (this.logs.get(record.id) ?? []).filter((line) => line.at >= sinceMs);
    let seen = all.length;
    for (const line of all.slice(Math.max(0, all.length - options.tail))) yield this.present(line, options);
    while (options.follow && !signal?.aborted && this.services.has(record.id)) {
      await sleep(25, undefined, { signal }).catch(() => undefined);
      if (signal?.aborted) return;
      this.advance(record);
      const current = this.logs.get(record.id) ?? [];
      for (const line of current.slice(seen)) yield this.present(line, options);
      seen = current.length;
    }
  }

  async listManaged(filter: Labels = {}): ReturnType<SwarmGateway['listManaged']> {
    this.checkEngine();
    const matches = (labels: Labels) => LABELS.managed in labels && Object.entries(filter).every(([key, value]) => labels[key] === value);
    return {
      services: [...this.services.values()].filter((record) => matches(record.spec.labels)).map((record) => this.toState(record)),
      networks: [...this.networks.values()].filter((network) => matches(network.labels)).map((network) => ({ ...network, labels: { ...network.labels } })),
      volumes: [...this.volumes.entries()].filter(([, labels]) => matches(labels)).map(([name, labels]) => ({ name, labels: { ...labels } })),
    };
  }

  private checkEngine(): void {
    if (this.engineDown) throw new SwarmError('ENGINE_ERROR', 'connect ENOENT /var/run/docker.sock', { retryable: true });
  }

  private findService(nameOrId: string): ServiceRecord | undefined {
    return this.services.get(nameOrId) ?? [...this.services.values()].find((record) => record.spec.name === nameOrId);
  }

  private requireService(nameOrId: string): ServiceRecord {
    const record = this.findService(nameOrId);
    if (!record) throw new SwarmError('NOT_FOUND', `service ${nameOrId} not found`, { statusCode: 404 });
    return record;
  }

  private async waitUntilUnused(what: string, inUse: () => boolean): Promise<void> {
    const deadline = Date.now() + this.removeRetryMs;
    while (inUse()) {
      if (Date.now() >= deadline) throw new SwarmError('IN_USE', `remove ${what}: still in use after ${this.removeRetryMs} ms`, { retryable: true });
      await sleep(10);
    }
  }

  private replaceSpec(record: ServiceRecord, spec: ServiceSpec, now: number, updateState: string): void {
    const stopFirst = updateState === 'updating' && spec.publishMode === 'host' && spec.ports.some((port) => port.host !== undefined);
    for (const task of this.tasks.get(record.id) ?? []) {
      if (task.desiredState !== 'running') continue;
      task.desiredState = 'shutdown';
      if (stopFirst || task.state !== 'running') this.finishTask(task, 'shutdown', now);
    }
    record.previous = record.spec;
    record.spec = spec;
    record.version += 1;
    record.generation += 1;
    record.updatedAt = iso(now);
    record.updateState = updateState;
    delete record.updateMessage;
    this.spawnTasks(record, spec.replicas, now);
  }

  private spawnTasks(record: ServiceRecord, count: number, now: number): void {
    const tasks = this.tasks.get(record.id) ?? [];
    for (let index = 0; index < count; index += 1) {
      tasks.push({
        id: newId(), serviceId: record.id, desiredState: 'running', state: 'pending', image: record.spec.image,
        labels: { ...record.spec.labels }, createdAt: iso(now), updatedAt: iso(now), readyAt: now + this.taskStartMs,
        spec: record.spec, generation: record.generation,
      });
    }
    this.tasks.set(record.id, tasks);
  }

  /** Moves every due task on, in time order, restarting and rolling back as Swarm would. */
  private advance(record: ServiceRecord): void {
    for (;;) {
      const due = (this.tasks.get(record.id) ?? [])
        .filter((task) => task.state === 'pending' && task.readyAt <= Date.now())
        .sort((a, b) => a.readyAt - b.readyAt)[0];
      if (!due) return;
      this.startTask(record, due);
    }
  }

  private startTask(record: ServiceRecord, task: TaskRecord): void {
    const at = task.readyAt;
    if (!this.localImages.has(task.spec.image)) {
      task.error = `No such image: ${task.spec.image}`;
      this.finishTask(task, 'rejected', at);
      return this.afterFailure(record, task, at);
    }
    const outcome = simulateCommand(task.spec.command);
    this.appendLogs(record.id, outcome.lines, at);
    if (task.spec.healthcheck && healthcheckFails(task.spec.healthcheck.test)) {
      Object.assign(task, { error: 'task: non-zero exit (137): dockerexec: unhealthy container', exitCode: 137, containerId: newId() });
      this.finishTask(task, 'failed', at);
      return this.afterFailure(record, task, at);
    }
    if (outcome.exitCode !== undefined) {
      Object.assign(task, { exitCode: outcome.exitCode, containerId: newId() });
      if (outcome.exitCode !== 0) task.error = `task: non-zero exit (${outcome.exitCode})`;
      this.finishTask(task, outcome.exitCode === 0 ? 'complete' : 'failed', at);
      return outcome.exitCode === 0 ? undefined : this.afterFailure(record, task, at);
    }
    Object.assign(task, { state: 'running', message: 'started', containerId: newId(), updatedAt: iso(at) });
    if (task.spec.healthcheck) task.health = 'healthy';
    this.afterRunning(record, at);
  }

  private afterRunning(record: ServiceRecord, at: number): void {
    const tasks = this.tasks.get(record.id) ?? [];
    const running = tasks.filter((task) => task.generation === record.generation && task.state === 'running').length;
    if (running < record.spec.replicas) return;
    for (const task of tasks) if (task.generation !== record.generation && task.state === 'running') this.finishTask(task, 'shutdown', at);
    if (record.updateState === 'updating') record.updateState = 'completed';
  }

  private afterFailure(record: ServiceRecord, task: TaskRecord, at: number): void {
    if (task.generation !== record.generation) return;
    if (record.updateState === 'updating' && record.previous) {
      // FailureAction rollback: Swarm restores the previous spec.
      this.replaceSpec(record, record.previous, at, 'rollback_completed');
      record.updateMessage = `update rolled back due to failure or early termination of task ${task.id}`;
      return;
    }
    const failures = (this.tasks.get(record.id) ?? []).filter((candidate) => candidate.generation === record.generation && ['failed', 'rejected'].includes(candidate.state)).length;
    if (failures < this.restartMaxAttempts) this.spawnTasks(record, 1, at);
  }

  private finishTask(task: TaskRecord, state: string, at: number): void {
    task.state = state;
    task.desiredState = 'shutdown';
    task.updatedAt = iso(at);
    delete task.health;
  }

  private appendLogs(serviceId: string, lines: LogLine[], at: number): void {
    const log = this.logs.get(serviceId) ?? [];
    log.push(...lines.map((line) => ({ ...line, at })));
    this.logs.set(serviceId, log);
  }

  private present(line: LogLine & { at: number }, options: LogOptions): LogLine {
    return { stream: line.stream, line: line.line, ...(options.timestamps ? { timestamp: iso(line.at) } : {}) };
  }

  private toState(record: ServiceRecord): ServiceState {
    const spec = record.spec;
    return {
      id: record.id, name: spec.name, version: record.version, image: spec.image, labels: { ...spec.labels }, replicas: spec.replicas,
      ports: spec.ports.filter((port) => port.host !== undefined).map((port) => ({ ...port, protocol: port.protocol ?? 'tcp' })),
      hasPreviousSpec: record.previous !== undefined,
      ...(record.updateState ? { updateState: record.updateState } : {}),
      ...(record.updateMessage ? { updateMessage: record.updateMessage } : {}),
      createdAt: record.createdAt, updatedAt: record.updatedAt,
    };
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}
