import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrator.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const MIGRATIONS = join(PROJECT_ROOT, 'prisma/migrations');
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('migrations');
});
afterAll(async () => {
  await t?.drop();
});

describe('migrator', () => {
  it('keeps Prisma’s ledger and is a no-op the second time', async () => {
    const second = await applyMigrations(t.url, MIGRATIONS);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(expect.arrayContaining(['20261122000000_init', '20261122063000_deployment_log_tail']));

    const client = new pg.Client({ connectionString: t.url.split('?')[0] });
    await client.connect();
    const rows = await client.query(`SELECT migration_name, checksum, finished_at, applied_steps_count FROM "${t.schema}"."_prisma_migrations" ORDER BY migration_name`);
    await client.end();
    expect(rows.rows.map((row) => row.migration_name)).toEqual(['20261122000000_init', '20261122063000_deployment_log_tail']);
    for (const row of rows.rows) {
      expect(row).toMatchObject({ applied_steps_count: 1 });
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
    }
  });
});

describe('schema and migrations agree: every model round-trips', () => {
  it('writes and reads every model through the generated client', async () => {
    const { db } = t;
    const now = new Date();
    const user = await db.user.create({ data: { id: 'u1', telegramId: '1001', discordId: '2002', displayName: 'Ada', role: 'ADMIN', allowed: true } });
    const key = await db.apiKey.create({
      data: { id: 'k1', keyId: 'abcdefghijklmnop', userId: user.id, secretHash: '$2b$10$x', scopes: ['DEPLOYMENTS_READ', 'ADMIN'], env: 'prod', expiresAt: now },
    });
    await db.magicLink.create({ data: { id: 'm1', tokenHash: 'h'.repeat(64), userId: user.id, scopes: ['LOGS_READ'], expiresAt: now, apiKeyId: key.id } });
    const env = await db.environment.create({ data: { id: 'e1', userId: user.id, name: 'shop', networkName: 'rw-u1-shop', networkId: 'n1' } });
    const service = await db.service.create({ data: { id: 's1', environmentId: env.id, name: 'web', swarmName: 'rw-e1-web' } });
    const deployment = await db.deployment.create({
      data: {
        id: 'd1', jobId: 'job0123456789abc', userId: user.id, environmentId: env.id, serviceId: service.id, source: 'GIT', origin: 'TELEGRAM',
        repoUrl: 'https://example.com/r.git', branch: 'main', commitSha: 'a'.repeat(40), spec: { ports: [{ container: 80 }], envVars: { A: 'b' } },
        logTail: 'starting\npanic: no config',
      },
    });
    await db.service.update({ where: { id: service.id }, data: { currentDeploymentId: deployment.id } });
    await db.deploymentTransition.create({ data: { id: 't1', deploymentId: deployment.id, fromStatus: 'PENDING', toStatus: 'BUILDING', reason: 'clone' } });
    await db.volume.create({ data: { id: 'v1', environmentId: env.id, name: 'data', dockerName: 'rw-e1-data', createdByDeploymentId: deployment.id } });
    const domain = await db.domain.create({ data: { id: 'dom1', environmentId: env.id, serviceId: service.id, hostname: 'app.test', port: 80 } });
    await db.certificate.create({ data: { id: 'c1', domainId: domain.id, status: 'VALID', certPem: 'PEM', keyPath: '/k.pem', expiresAt: now } });
    await db.acmeAccount.create({ data: { id: 'a1', directoryUrl: 'https://ca/dir', accountKey: 'KEY', email: 'ops@example.com' } });
    await db.acmeOrder.create({ data: { id: 'o1', registeredDomain: 'app.test', hostname: 'app.test', outcome: 'valid' } });
    const target = await db.chatTarget.create({ data: { id: 'ct1', userId: user.id, platform: 'DISCORD', chatId: '555' } });
    await db.notificationMessage.create({ data: { id: 'nm1', deploymentId: deployment.id, chatTargetId: target.id, messageId: '77' } });
    await db.auditLog.create({ data: { id: 'al1', actorUserId: user.id, action: 'key.create', outcome: 'ok', details: { keyId: key.keyId } } });

    const loaded = await db.user.findUniqueOrThrow({
      where: { id: 'u1' },
      include: {
        apiKeys: { include: { magicLink: true } },
        environments: { include: { services: { include: { currentDeployment: true, domains: { include: { certificate: true } } } }, volumes: true } },
        deployments: { include: { transitions: true, messages: { include: { chatTarget: true } } } },
      },
    });
    expect(loaded.apiKeys[0]?.scopes).toEqual(['DEPLOYMENTS_READ', 'ADMIN']);
    expect(loaded.apiKeys[0]?.magicLink?.scopes).toEqual(['LOGS_READ']);
    const loadedService = loaded.environments[0]?.services[0];
    expect(loadedService?.currentDeployment?.jobId).toBe('job0123456789abc');
    expect(loadedService?.domains[0]?.certificate?.status).toBe('VALID');
    expect(loaded.environments[0]?.volumes[0]?.dockerName).toBe('rw-e1-data');
    expect(loaded.deployments[0]?.spec).toEqual({ ports: [{ container: 80 }], envVars: { A: 'b' } });
    expect(loaded.deployments[0]?.logTail).toBe('starting\npanic: no config');
    expect(loaded.deployments[0]?.transitions[0]).toMatchObject({ fromStatus: 'PENDING', toStatus: 'BUILDING' });
    expect(loaded.deployments[0]?.messages[0]?.chatTarget.platform).toBe('DISCORD');
    expect(await db.acmeAccount.count()).toBe(1);
    expect(await db.acmeOrder.count()).toBe(1);
    expect((await db.auditLog.findFirstOrThrow()).details).toEqual({ keyId: 'abcdefghijklmnop' });
  });

  it('enforces the unique constraints the domain relies on', async () => {
    const { db } = t;
    await expect(db.environment.create({ data: { id: 'e2', userId: 'u1', name: 'shop', networkName: 'other' } })).rejects.toThrow();
    await expect(db.user.create({ data: { id: 'u2', telegramId: '1001' } })).rejects.toThrow();
  });
});
