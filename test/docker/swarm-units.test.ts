import { describe, expect, it } from 'vitest';
import { demuxLogLines } from '../../src/docker/docker-log-stream.js';
import { assessRollout } from '../../src/docker/rollout-status.js';
import { buildEngineServiceSpec, updateOrderFor } from '../../src/docker/service-spec-builder.js';
import { toSwarmError } from '../../src/docker/swarm-errors.js';
import { LABELS, type ServiceSpec, type ServiceState, type TaskState } from '../../src/docker/swarm-gateway.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function frameBytes(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect(source: Iterable<Buffer>, timestamps = false) {
  const lines = [];
  for await (const line of demuxLogLines(source, { timestamps })) lines.push(line);
  return lines;
}

describe('demuxLogLines', () => {
  it('splits frames across chunks and lines across frames', async () => {
    const bytes = Buffer.concat([frame(1, 'hel'), frame(1, 'lo\nwor'), frame(2, 'oops\n'), frame(1, 'ld\n')]);
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 13), bytes.subarray(13, 30), bytes.subarray(30)];
    expect(await collect(chunks)).toEqual([
      { stream: 'stdout', line: 'hello' },
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'world' },
    ]);
  });

  it('keeps multi-byte characters cut between frames and chunks', async () => {
    const euro = Buffer.from('€\n');
    const split = Buffer.concat([frameBytes(1, euro.subarray(0, 1)), frameBytes(1, euro.subarray(1))]);
    expect(await collect([split])).toEqual([{ stream: 'stdout', line: '€' }]);
    expect(await collect([Buffer.from('ab'), Buffer.from('cdefgh€'.slice(0, 6)), Buffer.from('€\n').subarray(0, 2), Buffer.from('€\n').subarray(2)])).toEqual([
      { stream: 'stdout', line: 'abcdefgh€' },
    ]);
  });

  it('parses timestamps and reads header-less (TTY) streams as stdout', async () => {
    expect(await collect([frame(2, '2026-01-01T00:00:00.000000000Z boom\n')], true)).toEqual([
      { stream: 'stderr', line: 'boom', timestamp: '2026-01-01T00:00:00.000000000Z' },
    ]);
    expect(await collect([Buffer.from('plain text\nsecond')])).toEqual([
      { stream: 'stdout', line: 'plain text' },
      { stream: 'stdout', line: 'second' },
    ]);
  });
});

const base: ServiceSpec = {
  name: 'svc', image: 'local/busybox:1', labels: { a: 'b' }, networkId: 'net', networkAliases: ['svc'], env: { K: 'v' }, ports: [],
  mounts: [], replicas: 2, cpuLimit: 1.5, memoryLimitBytes: 512 << 20, capAdd: ['chown', 'CAP_KILL'], endpointMode: 'vip', publishMode: 'ingress',
};

describe('buildEngineServiceSpec', () => {
  it('drops every capability, adds the allow-list, limits resources and restarts on failure', () => {
    const body = buildEngineServiceSpec(base) as any;
    expect(body.TaskTemplate.ContainerSpec).toMatchObject({ CapabilityDrop: ['ALL'], CapabilityAdd: ['CAP_CHOWN', 'CAP_KILL'], Privileges: { NoNewPrivileges: true }, Env: ['K=v'], Labels: { a: 'b' } });
    expect(body.TaskTemplate.Resources.Limits).toEqual({ NanoCPUs: 1_500_000_000, MemoryBytes: 512 << 20 });
    expect(body.TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', Delay: 1e9, MaxAttempts: 3, Window: 60e9 });
    expect(body.UpdateConfig).toMatchObject({ Order: 'start-first', FailureAction: 'rollback' });
    expect(body.EndpointSpec).toEqual({ Mode: 'vip', Ports: [] });
    expect(body.Mode).toEqual({ Replicated: { Replicas: 2 } });
  });

  it('updates stop-first only when a host-mode port is published', () => {
    expect(updateOrderFor({ ports: [{ container: 80, host: 8080 }], publishMode: 'host' })).toBe('stop-first');
    expect(updateOrderFor({ ports: [{ container: 80, host: 8080 }], publishMode: 'ingress' })).toBe('start-first');
    expect(updateOrderFor({ ports: [{ container: 80 }], publishMode: 'host' })).toBe('start-first');
  });

  it('publishes only ports with a host side, in the configured mode', () => {
    const body = buildEngineServiceSpec({ ...base, publishMode: 'host', ports: [{ container: 80, host: 8080 }, { container: 9000 }] }) as any;
    expect(body.EndpointSpec.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }]);
  });
});

describe('assessRollout', () => {
  const service: ServiceState = {
    id: 's', name: 'svc', version: 3, image: 'img:2', labels: {}, replicas: 1, ports: [], hasPreviousSpec: true, createdAt: '', updatedAt: '',
  };
  const task = (overrides: Partial<TaskState>): TaskState => ({
    id: Math.random().toString(), serviceId: 's', desiredState: 'running', state: 'running', image: 'img:2',
    labels: { [LABELS.deployment]: 'd2' }, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', ...overrides,
  });

  it('converges when the deployment tasks run and the update completed', () => {
    expect(assessRollout({ ...service, updateState: 'completed' }, [task({})], { deploymentId: 'd2' }).phase).toBe('converged');
    expect(assessRollout({ ...service, updateState: 'updating' }, [task({})], { deploymentId: 'd2' }).phase).toBe('progressing');
    expect(assessRollout(service, [task({ labels: { [LABELS.deployment]: 'd1' } })], { deploymentId: 'd2' }).phase).toBe('progressing');
  });

  it('waits for minStableMs and for health', () => {
    const now = Date.parse('2026-01-01T00:00:01Z');
    expect(assessRollout(service, [task({})], { minStableMs: 2000, now }).phase).toBe('progressing');
    expect(assessRollout(service, [task({})], { minStableMs: 500, now }).phase).toBe('converged');
    expect(assessRollout(service, [task({ health: 'starting' })]).phase).toBe('progressing');
  });

  it('fails on rollback, repeated task failures, or an exit 0', () => {
    const rolledBack = assessRollout({ ...service, updateState: 'rollback_completed', updateMessage: 'update rolled back' }, [task({ state: 'failed', error: 'task: non-zero exit (3)', exitCode: 3 })]);
    expect(rolledBack).toMatchObject({ phase: 'failed', reason: 'update rolled back: task: non-zero exit (3)' });
    const failures = [1, 2, 3].map(() => task({ state: 'failed', desiredState: 'shutdown', error: 'task: non-zero exit (1)', exitCode: 1 }));
    expect(assessRollout(service, failures)).toMatchObject({ phase: 'failed', reason: 'task: non-zero exit (1)' });
    expect(assessRollout(service, failures.slice(0, 2)).phase).toBe('progressing');
    expect(assessRollout(service, [task({ state: 'complete', desiredState: 'shutdown' })]).phase).toBe('failed');
  });
});

describe('toSwarmError', () => {
  it('classifies by status code, not message', () => {
    const engineError = (statusCode: number) => Object.assign(new Error('(HTTP code) whatever'), { statusCode, json: { message: 'engine says' } });
    expect(toSwarmError(engineError(409), 'create').code).toBe('CONFLICT');
    expect(toSwarmError(engineError(404), 'create').code).toBe('NOT_FOUND');
    expect(toSwarmError(engineError(400), 'create').code).toBe('INVALID_SPEC');
    expect(toSwarmError(engineError(500), 'create')).toMatchObject({ code: 'ENGINE_ERROR', message: 'create: engine says' });
    expect(toSwarmError(new Error('not found'), 'x').code).toBe('ENGINE_ERROR');
  });
});
