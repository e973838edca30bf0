/**
 * The fast tier: use cases and the deploy processor over the in-memory Swarm
 * fake (PostgreSQL stays real: the state machine lives in its transactions).
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_TRANSITIONS, canTransition, TERMINAL_STATES } from '../../src/core/deployments/deployment-states.js';
import { DeploymentRunner } from '../../src/core/deployments/deployment-runner.js';
import { DeploymentTransitions } from '../../src/core/deployments/deployment-transitions.js';
import { StartDeployment, type DeploymentJobQueue } from '../../src/core/deployments/deployment-use-cases.js';
import { FailureCleanup } from '../../src/core/deployments/failure-cleanup.js';
import { EnvironmentHooks } from '../../src/core/environments/environment-hooks.js';
import { EnvironmentUseCases } from '../../src/core/environments/environment-use-cases.js';
import type { Principal } from '../../src/core/principal.js';
import { InMemorySwarmGateway } from '../../src/docker/in-memory-swarm-gateway.js';
import type { RunwayEvent } from '../../src/events/runway-event.js';
import { createLogger } from '../../src/logging/logger.js';
import { processDeploy } from '../../src/queue/deploy-processor.js';
import { createUserWithKey } from '../support/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ALL_SCOPES } from './support/deployment-harness.js';

describe('state machine (SPEC section 3)', () => {
  it('terminal states move nowhere; RUNNING only to SUPERSEDED, STOPPED or FAILED', () => {
    for (const state of TERMINAL_STATES) expect(ALLOWED_TRANSITIONS[state]).toEqual([]);
    expect(ALLOWED_TRANSITIONS.RUNNING).toEqual(['SUPERSEDED', 'STOPPED', 'FAILED']);
    expect(canTransition('PENDING', 'RUNNING')).toBe(false);
    expect(canTransition('PENDING', 'BUILDING')).toBe(true);
    expect(canTransition('STARTING_CONTAINERS', 'RUNNING')).toBe(true);
  });
});

describe('deployment use cases over the in-memory Swarm', () => {
  let db: TestDatabase;
  let principal: Principal;
  let environmentId: string;
  const gateway = new InMemorySwarmGateway({ taskStartMs: 10 });
  const events: RunwayEvent[] = [];
  const queued: { deploymentId: string; jobId: string }[] = [];
  const logger = createLogger({ level: 'silent' });
  const queue: DeploymentJobQueue = {
    enqueueDeploy: async (deploymentId, jobId) => void queued.push({ deploymentId, jobId }),
    jobState: async () => 'unknown',
    requeueDeploy: async () => undefined,
  };
  let starter: StartDeployment;
  let runner: DeploymentRunner;
  let cleanup: FailureCleanup;

  beforeAll(async () => {
    db = await createTestDatabase('dep_unit');
    const transitions = new DeploymentTransitions(db.db, { publish: async (event) => void events.push(event) }, logger);
    starter = new StartDeployment({ db: db.db, queue, transitions, logger });
    cleanup = new FailureCleanup(db.db, gateway, transitions, logger);
    runner = new DeploymentRunner({
      db: db.db, gateway, transitions, logger, pullPolicy: 'missing', convergeTimeoutMs: 5_000, stableMs: 0,
      buildImage: async () => { throw new Error('no builds here'); },
      swarm: { instance: 'unit', endpointMode: 'dnsrr', publishMode: 'host', cpu: 1, memoryMb: 512 },
    });
    const owner = await createUserWithKey(db.db, { scopes: ALL_SCOPES });
    principal = { userId: owner.user.id, role: 'USER', scopes: ALL_SCOPES };
    const environments = new EnvironmentUseCases({ db: db.db, gateway, transitions, hooks: new EnvironmentHooks(), instance: 'unit', logger });
    environmentId = (await environments.create(principal, { name: 'unit' })).id;
  });
  afterAll(async () => db?.drop());

  const job = (deploymentId: string, attemptsMade = 0, attempts = 3) =>
    ({ id: 'j', data: { deploymentId }, attemptsMade, opts: { attempts } }) as unknown as Job<{ deploymentId: string }>;
  const deps = () => ({ db: db.db, gateway, runner, cleanup, logger });
  const deploy = (name: string, command: string[], extra: Record<string, unknown> = {}) =>
    starter.start(principal, { source: 'IMAGE', environmentId, image: 'local/busybox:1', name, command, ...extra });

  it('stores and publishes every transition of a deployment that reaches RUNNING', async () => {
    const started = await deploy('ok', ['sleep', '100']);
    expect(queued.at(-1)).toEqual({ deploymentId: started.deploymentId, jobId: started.jobId });
    expect(await processDeploy(job(started.deploymentId), deps())).toBe('RUNNING');
    const rows = await db.db.deploymentTransition.findMany({ where: { deploymentId: started.deploymentId }, orderBy: { at: 'asc' } });
    expect(rows.map((row) => row.toStatus)).toEqual(['PENDING', 'PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS', 'RUNNING']);
    const mine = events.filter((event) => event.type === 'deployment.state' && event.deploymentId === started.deploymentId);
    expect(mine.map((event) => (event.type === 'deployment.state' ? event.state : ''))).toEqual(rows.map((row) => row.toStatus));
    // A re-delivered job of a finished deployment does nothing.
    expect(await processDeploy(job(started.deploymentId), deps())).toBe('RUNNING');
  });

  it('a crashing command fails the job without retry and removes the service', async () => {
    const started = await deploy('crash', ['sh', '-c', 'echo bye; exit 2']);
    await expect(processDeploy(job(started.deploymentId), deps())).rejects.toBeInstanceOf(UnrecoverableError);
    const row = await db.db.deployment.findUniqueOrThrow({ where: { id: started.deploymentId }, include: { service: true } });
    expect(row.status).toBe('FAILED');
    expect(row.errorMessage).toContain('exit');
    expect(await gateway.inspectService(row.service.swarmName)).toBeUndefined();
  });

  it('a failed update keeps the previous deployment current and serving', async () => {
    const v1 = await deploy('svc', ['sleep', '100']);
    await processDeploy(job(v1.deploymentId), deps());
    const v2 = await deploy('svc', ['sh', '-c', 'exit 1']);
    await expect(processDeploy(job(v2.deploymentId), deps())).rejects.toBeInstanceOf(UnrecoverableError);
    const service = await db.db.service.findFirstOrThrow({ where: { environmentId, name: 'svc' } });
    expect(service.currentDeploymentId).toBe(v1.deploymentId);
    expect((await db.db.deployment.findUniqueOrThrow({ where: { id: v1.deploymentId } })).status).toBe('RUNNING');
    const state = await gateway.inspectService(service.swarmName);
    expect(state?.labels['io.runway.deployment']).toBe(v1.deploymentId);
  });

  it('transient engine trouble is retried; the last attempt fails the deployment', async () => {
    const started = await deploy('flaky', ['sleep', '100']);
    gateway.engineDown = true;
    try {
      const first = processDeploy(job(started.deploymentId, 0, 3), deps());
      await expect(first).rejects.not.toBeInstanceOf(UnrecoverableError);
      expect((await db.db.deployment.findUniqueOrThrow({ where: { id: started.deploymentId } })).status).not.toBe('FAILED');
      await expect(processDeploy(job(started.deploymentId, 2, 3), deps())).rejects.toBeInstanceOf(UnrecoverableError);
    } finally {
      gateway.engineDown = false;
    }
    const row = await db.db.deployment.findUniqueOrThrow({ where: { id: started.deploymentId } });
    expect(row.status).toBe('FAILED');
    expect(row.errorMessage).toMatch(/gave up after 3 attempts/);
  });

  it('a second deployment of a service in progress answers 409', async () => {
    const busy = await deploy('busy', ['sleep', '100']);
    await expect(deploy('busy', ['sleep', '100'])).rejects.toMatchObject({ status: 409, details: { jobId: busy.jobId } });
  });
});
