import { nanoid } from 'nanoid';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEventStream } from '../../src/events/redis-event-stream.js';
import { DeploymentRouteFollower } from '../../src/https/deployment-route-follower.js';
import { createLogger } from '../../src/logging/logger.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let redis: Redis;
let stream: RedisEventStream;
const prefix = uniquePrefix('routes');

beforeAll(async () => {
  t = await createTestDatabase('route_follower');
  redis = new Redis(TEST_REDIS_URL);
  stream = new RedisEventStream(redis, { prefix });
});

afterAll(async () => {
  await redis.del(stream.key);
  redis.disconnect();
  await t.drop();
});

function deploymentEvent(environmentId: string, state: 'RUNNING' | 'PULLING_IMAGE') {
  return {
    type: 'deployment.state' as const, deploymentId: nanoid(), jobId: nanoid(16), ownerId: 'u', environmentId,
    environmentName: 'e', serviceName: 'web', source: 'x:1', fromState: null, state, at: new Date().toISOString(),
  };
}

describe('following deployment events', () => {
  it('asks for a route sync when a service of an environment with domains changes, and only then', async () => {
    const user = await t.db.user.create({ data: { id: nanoid() } });
    const withDomains = await t.db.environment.create({ data: { id: nanoid(), userId: user.id, name: 'a', networkName: `n-${nanoid(6)}` } });
    const without = await t.db.environment.create({ data: { id: nanoid(), userId: user.id, name: 'b', networkName: `n-${nanoid(6)}` } });
    const service = await t.db.service.create({ data: { id: nanoid(), environmentId: withDomains.id, name: 'web', swarmName: `s-${nanoid(6)}` } });
    await t.db.domain.create({ data: { id: nanoid(), environmentId: withDomains.id, serviceId: service.id, hostname: `f-${nanoid(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}.test`, port: 80 } });

    let syncs = 0;
    const follower = new DeploymentRouteFollower(
      { db: t.db, events: stream, redis: redis.duplicate(), work: { activate: async () => undefined, sync: async () => void (syncs += 1) }, logger: createLogger({ level: 'silent' }) },
      200,
    );
    await follower.start();
    try {
      await stream.publish(deploymentEvent(without.id, 'RUNNING'));
      await stream.publish(deploymentEvent(withDomains.id, 'PULLING_IMAGE'));
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(syncs).toBe(0);
      await stream.publish(deploymentEvent(withDomains.id, 'RUNNING'));
      const deadline = Date.now() + 5_000;
      while (syncs === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(syncs).toBe(1);
    } finally {
      await follower.stop();
    }
  });
});
