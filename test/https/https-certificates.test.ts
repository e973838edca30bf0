/**
 * End to end against the real Nginx, Pebble (an ACME CA) and Docker swarm:
 * a service without a published port becomes reachable over HTTPS with a
 * certificate Pebble issued; renewal near expiry; challenges that cannot be
 * validated end FAILED with a reason a person can act on.
 */
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeAccountStore } from '../../src/acme/acme-account-store.js';
import { AcmeFailure } from '../../src/acme/acme-failure.js';
import { AcmeIssuer } from '../../src/acme/acme-issuer.js';
import { Http01Webroot } from '../../src/acme/http01-webroot.js';
import type { DomainWork } from '../../src/core/domains/domain-work.js';
import { publishDomain } from '../../src/core/domains/publish-domain.js';
import { removeDomain } from '../../src/core/domains/remove-domain.js';
import type { Principal } from '../../src/core/principal.js';
import { createEdge, type EdgeParts } from '../../src/https/https-module.js';
import { createLogger } from '../../src/logging/logger.js';
import { startTestNginx, type TestNginx } from '../support/nginx-instance.js';
import { PEBBLE_LISTENER_CA, startPebble, type TestPebble } from '../support/pebble.js';
import { testConfig } from '../support/test-config.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createServiceFixture, docker, httpsGet, RecordingEvents, type ServiceFixture } from './https-fixtures.js';

const TEN_DAYS_S = 10 * 24 * 3600;
const suffix = randomBytes(3).toString('hex');
const hostname = `app-${suffix}.test`;

let database: TestDatabase;
let nginx: TestNginx;
let pebble: TestPebble;
let fixture: ServiceFixture;
let edge: EdgeParts;
let principal: Principal;
const events = new RecordingEvents();
const logLines: string[] = [];
let activations: Promise<unknown>[] = [];

const work: DomainWork = {
  // Like the queue: publishDomain returns before the work is done.
  activate: async (domainId) => void activations.push(edge.activator.activate(domainId)),
  sync: async () => void (await edge.routes.sync()),
};

async function settle(): Promise<void> {
  const pending = activations;
  activations = [];
  await Promise.all(pending);
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | Error = new Error('never probed');
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      last = error as Error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

beforeAll(async () => {
  database = await createTestDatabase('https');
  nginx = await startTestNginx('https');
  pebble = await startPebble({ httpPort: nginx.httpPort, certificateValidityPeriodS: TEN_DAYS_S, domainBlocklist: ['blocked.test'] });
  fixture = await createServiceFixture(database.db, 'https');
  principal = { userId: fixture.userId, role: 'USER', scopes: ['ENVIRONMENTS_WRITE'] };
  const config = testConfig({
    ...nginx.config,
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_CA_CERT: PEBBLE_LISTENER_CA,
    ACME_RETRY_BASE_MS: '60000',
  });
  const destination = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
  edge = createEdge({ config, db: database.db, docker, events, logger: createLogger({ level: 'trace', destination }) });
});

afterAll(async () => {
  await settle().catch(() => undefined);
  await fixture?.remove();
  await pebble?.stop();
  await nginx?.stop();
  await database?.drop();
});

describe('public HTTPS with Pebble', () => {
  it('makes a deployed service reachable over HTTPS with a certificate Pebble issued', async () => {
    const view = await publishDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: hostname, service: 'web', port: 80 });
    expect(view.status).toBe('PENDING');
    await settle();

    const domain = await database.db.domain.findUniqueOrThrow({ where: { hostname }, include: { certificate: true } });
    expect({ status: domain.status, reason: domain.reason }).toEqual({ status: 'ACTIVE', reason: null });
    expect(domain.certificate?.status).toBe('VALID');
    expect(domain.certificate?.certPem).toContain('BEGIN CERTIFICATE');
    const validDays = (domain.certificate!.expiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(validDays).toBeGreaterThan(9);
    expect(validDays).toBeLessThan(11);
    expect((await stat(domain.certificate!.keyPath!)).mode & 0o777).toBe(0o600);

    // The client trusts only Pebble's issuing root and checks the hostname.
    const root = await pebble.issuingRoot();
    const answer = await eventually(() => httpsGet(hostname, nginx.httpsPort, root), (a) => a.status === 200);
    expect(answer.body.trim()).toBe(fixture.body);
    expect(answer.subjectAltName).toContain(`DNS:${hostname}`);
    await expect(httpsGet(`other-${suffix}.test`, nginx.httpsPort, root)).rejects.toThrow(/altnames|does not match/i);

    const redirect = await eventually(
      () =>
        new Promise<{ status: number; location?: string }>((resolve, reject) => {
          request({ host: '127.0.0.1', port: nginx.httpPort, path: '/x?y=1', headers: { host: hostname } }, (response) => {
            response.resume();
            resolve({ status: response.statusCode ?? 0, location: response.headers.location });
          }).on('error', reject).end();
        }),
      (answer) => answer.status === 301,
    );
    expect(redirect).toEqual({ status: 301, location: `https://${hostname}:${nginx.httpsPort}/x?y=1` });

    expect(events.types()).toContain('domain.active');
    expect(events.events.find((event) => event.type === 'domain.active')).toMatchObject({ hostname, ownerId: fixture.userId, environmentId: fixture.environmentId });
    expect(logLines.join('')).not.toContain('PRIVATE KEY');
  });

  it('renews a certificate near expiry and serves the new one', async () => {
    const root = await pebble.issuingRoot();
    const before = await httpsGet(hostname, nginx.httpsPort, root);
    const oldRow = await database.db.certificate.findFirstOrThrow({ where: { domain: { hostname } } });

    // Pebble issues 10-day certificates here; the default window renews 30 days ahead.
    const report = await edge.renewal.run();
    expect(report.renewed).toEqual([hostname]);

    const newRow = await database.db.certificate.findFirstOrThrow({ where: { domain: { hostname } } });
    expect(newRow.certPem).not.toBe(oldRow.certPem);
    expect(newRow.issuedAt!.getTime()).toBeGreaterThanOrEqual(oldRow.issuedAt!.getTime());
    const after = await eventually(() => httpsGet(hostname, nginx.httpsPort, root), (a) => a.serial !== before.serial);
    expect(after.body.trim()).toBe(fixture.body);
    expect(events.types()).toContain('certificate.renewed');
    expect(await database.db.acmeOrder.count({ where: { hostname, outcome: 'valid' } })).toBe(2);
    // One persistent account for the CA, reused by every order.
    const accounts = await database.db.acmeAccount.findMany();
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ directoryUrl: pebble.directoryUrl, accountUrl: expect.stringContaining('https://127.0.0.1') });
  });

  it('publishes certificate.failed and certificate.expiring when a renewal near expiry fails, and keeps the old certificate live', async () => {
    await pebble.setServfail(hostname);
    const before = await database.db.certificate.findFirstOrThrow({ where: { domain: { hostname } } });
    const report = await edge.renewal.run();
    expect(report.failed).toEqual([hostname]);
    const after = await database.db.certificate.findFirstOrThrow({ where: { domain: { hostname } } });
    expect(after).toMatchObject({ status: 'VALID', certPem: before.certPem, failures: 1 });
    expect(after.lastError).toMatch(/^DOMAIN_DOES_NOT_RESOLVE/);
    expect(after.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    const mine = events.events.filter((event) => event.type.startsWith('certificate.') && 'hostname' in event && event.hostname === hostname).map((event) => event.type);
    expect(mine.slice(-2)).toEqual(['certificate.failed', 'certificate.expiring']);
    // Not due again until its backoff has passed.
    expect((await edge.renewal.run()).failed).toEqual([]);
    expect((await database.db.domain.findUniqueOrThrow({ where: { hostname } })).status).toBe('ACTIVE');
  });

  it('follows the service when its tasks change: upstreams are re-rendered to the tasks\' bridge addresses', async () => {
    const site = join(nginx.sitesDir, `rw-${hostname}.conf`);
    const service = docker.getService(fixture.swarmName);
    const current = (await service.inspect()) as { Version: { Index: number }; Spec: { Mode: unknown } };
    await service.update({ ...current.Spec, Mode: { Replicated: { Replicas: 2 } }, version: current.Version.Index } as never);
    // The periodic job (or a deployment event) runs this sync; here it runs until both tasks are seen.
    const content = await eventually(
      async () => {
        await edge.routes.sync();
        return readFile(site, 'utf8');
      },
      (text) => (text.match(/server 172\.\d+\.\d+\.\d+:80 /g) ?? []).length === 2,
      30_000,
    );
    const bridge = (await docker.getNetwork('docker_gwbridge').inspect()) as { Containers: Record<string, { IPv4Address: string }> };
    const tasks = (await docker.listTasks({ filters: { service: [fixture.swarmName], 'desired-state': ['running'] } })) as {
      Status: { ContainerStatus?: { ContainerID?: string } };
    }[];
    const addresses = tasks.map((task) => bridge.Containers[task.Status.ContainerStatus!.ContainerID!]!.IPv4Address.split('/')[0]);
    for (const address of addresses) expect(content).toContain(`server ${address}:80 `);
    const root = await pebble.issuingRoot();
    const answer = await eventually(() => httpsGet(hostname, nginx.httpsPort, root), (a) => a.status === 200);
    expect(answer.body.trim()).toBe(fixture.body);
  });

  it('ends FAILED with CHALLENGE_UNREACHABLE when the CA cannot fetch the challenge, and schedules a retry', async () => {
    const name = `unreachable-${suffix}.test`;
    await pebble.addA(name, '127.0.0.2'); // nothing listens there
    await publishDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: name, service: 'web', port: 80 });
    await settle();
    const domain = await database.db.domain.findUniqueOrThrow({ where: { hostname: name }, include: { certificate: true } });
    expect(domain.status).toBe('FAILED');
    expect(domain.reason).toMatch(/^CHALLENGE_UNREACHABLE: validating unreachable-.*port 80/s);
    expect(domain.certificate).toMatchObject({ status: 'FAILED', failures: 1 });
    expect(domain.certificate!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(events.events.find((event) => event.type === 'domain.failed' && event.hostname === name)?.reason).toBe(domain.reason);
    // The HTTP site stays so that a retry can still be validated.
    expect(await readdir(nginx.sitesDir)).toContain(`rw-${name}.conf`);
  });

  it('retries a failed domain once its backoff has passed, and it becomes ACTIVE when the cause is fixed', async () => {
    const name = `unreachable-${suffix}.test`;
    await pebble.addA(name, '127.0.0.1');
    const report = await edge.renewal.run(new Date(Date.now() + 61_000));
    expect(report.retried).toContain(name);
    const domain = await database.db.domain.findUniqueOrThrow({ where: { hostname: name }, include: { certificate: true } });
    expect({ status: domain.status, reason: domain.reason }).toEqual({ status: 'ACTIVE', reason: null });
    expect(domain.certificate).toMatchObject({ status: 'VALID', failures: 0, nextAttemptAt: null });
  });

  it('re-publishing a FAILED domain whose certificate is still good reuses it instead of ordering again', async () => {
    const name = `unreachable-${suffix}.test`;
    await database.db.domain.update({ where: { hostname: name }, data: { status: 'FAILED', reason: 'NGINX_UNAVAILABLE: test' } });
    const orders = await database.db.acmeOrder.count({ where: { hostname: name } });
    const view = await publishDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: name, service: 'web', port: 80 });
    expect(view.status).toBe('PENDING');
    await settle();
    expect((await database.db.domain.findUniqueOrThrow({ where: { hostname: name } })).status).toBe('ACTIVE');
    expect(await database.db.acmeOrder.count({ where: { hostname: name } })).toBe(orders);
  });

  it('starts a domain again that stayed PENDING because its job was lost', async () => {
    const name = `stale-${suffix}.test`;
    await database.db.domain.create({
      data: { id: `stale${suffix}`, environmentId: fixture.environmentId, serviceId: fixture.serviceId, hostname: name, port: 80, certificate: { create: { id: `cstale${suffix}` } } },
    });
    expect((await edge.renewal.run()).retried).not.toContain(name);
    const report = await edge.renewal.run(new Date(Date.now() + 16 * 60_000));
    expect(report.retried).toContain(name);
    expect((await database.db.domain.findUniqueOrThrow({ where: { hostname: name } })).status).toBe('ACTIVE');
  });

  it('leaves nothing behind when the work cannot be queued (503)', async () => {
    const down: DomainWork = { activate: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:6379'); }, sync: async () => undefined };
    const name = `queue-down-${suffix}.test`;
    const error = await publishDomain({ db: database.db, work: down }, principal, { environmentId: fixture.environmentId, domain: name, service: 'web', port: 80 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503, retryable: true });
    expect(await database.db.domain.count({ where: { hostname: name } })).toBe(0);
  });

  it('ends FAILED with DOMAIN_DOES_NOT_RESOLVE when the name does not resolve for the CA', async () => {
    const name = `nxdomain-${suffix}.test`;
    await pebble.setServfail(name);
    await publishDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: name, service: 'web', port: 80 });
    await settle();
    const domain = await database.db.domain.findUniqueOrThrow({ where: { hostname: name } });
    expect(domain.status).toBe('FAILED');
    expect(domain.reason).toMatch(/^DOMAIN_DOES_NOT_RESOLVE: .*A \(or AAAA\) record/s);
  });

  it('ends FAILED with CA_REFUSED when the CA refuses the name', async () => {
    await publishDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: 'blocked.test', service: 'web', port: 80 });
    await settle();
    const domain = await database.db.domain.findUniqueOrThrow({ where: { hostname: 'blocked.test' } });
    expect(domain.status).toBe('FAILED');
    expect(domain.reason).toMatch(/^CA_REFUSED: .*blocked/is);
  });

  it('reports an untrusted CA at once with the real cause instead of acme-client\'s TypeError', async () => {
    const issuer = new AcmeIssuer(
      { directoryUrl: pebble.directoryUrl.replace('127.0.0.1', 'localhost') },
      new AcmeAccountStore(database.db),
      new Http01Webroot(nginx.webroot),
      createLogger({ level: 'silent' }),
    );
    const started = Date.now();
    const failure = await issuer.issue(`x-${suffix}.test`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AcmeFailure);
    expect((failure as AcmeFailure).reason).toBe('CA_UNREACHABLE');
    expect((failure as AcmeFailure).message).toMatch(/certificate/i);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps a site nginx rejects out of the live config without blocking other sites', async () => {
    // A row whose certificate files are missing: valid syntax, but nginx -t cannot load the certificate.
    const broken = `broken-${suffix}.test`;
    await database.db.domain.create({
      data: {
        id: `broken${suffix}`, environmentId: fixture.environmentId, serviceId: fixture.serviceId, hostname: broken, port: 80, status: 'ACTIVE',
        certificate: { create: { id: `cbroken${suffix}`, status: 'VALID', certPem: 'not a certificate', keyPath: '/nonexistent.key' } },
      },
    });
    const good = `good-${suffix}.test`;
    await publishDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: good, service: 'web', port: 80 });
    await settle();
    expect((await database.db.domain.findUniqueOrThrow({ where: { hostname: good } })).status).toBe('ACTIVE');
    const files = await readdir(nginx.sitesDir);
    expect(files).toContain(`rw-${good}.conf`);
    expect(files).not.toContain(`rw-${broken}.conf`);
    const root = await pebble.issuingRoot();
    expect((await eventually(() => httpsGet(good, nginx.httpsPort, root), (a) => a.status === 200)).body.trim()).toBe(fixture.body);

    await database.db.domain.delete({ where: { hostname: broken } });
    expect((await edge.routes.sync()).rejected).toEqual([]);
  });

  it('removes the route, the site file and the certificate files when the domain is removed', async () => {
    await removeDomain({ db: database.db, work }, principal, { environmentId: fixture.environmentId, domain: hostname });
    expect(await readdir(nginx.sitesDir)).not.toContain(`rw-${hostname}.conf`);
    expect((await readdir(nginx.certsDir)).filter((name) => name.startsWith(hostname))).toEqual([]);
    const root = await pebble.issuingRoot();
    await eventually(
      () => httpsGet(hostname, nginx.httpsPort, root).then((a) => `answered ${a.status}`, (error: Error) => error.message),
      (outcome) => !outcome.startsWith('answered'),
    );
    expect(await database.db.domain.count({ where: { hostname } })).toBe(0);
  });
});

describe('order budget', () => {
  it('refuses orders beyond the weekly budget per registered domain', async () => {
    const { OrderBudget } = await import('../../src/acme/order-budget.js');
    const budget = new OrderBudget(database.db, 2);
    await budget.reserve(`a.budget-${suffix}.co.uk`);
    await budget.reserve(`b.budget-${suffix}.co.uk`);
    const failure = await budget.reserve(`c.budget-${suffix}.co.uk`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AcmeFailure);
    expect((failure as AcmeFailure).reason).toBe('ORDER_BUDGET_EXHAUSTED');
    expect((failure as AcmeFailure).retryAt!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    await expect(budget.reserve(`a.other-${suffix}.co.uk`)).resolves.toBeTypeOf('string');
  });
});

