/**
 * Routes a public hostname to a service of one of the caller's environments
 * (SPEC section 4, `POST /environments/:id/public`). Validates strictly,
 * records the Domain as PENDING and hands the Nginx and ACME work to the edge
 * worker; the caller polls the domain's state on the environment.
 */
import { nanoid } from 'nanoid';
import type { Database } from '../../db/prisma.js';
import { badRequest, conflict, notFound, unavailable } from '../errors.js';
import type { Principal } from '../principal.js';
import type { DomainWork } from './domain-work.js';
import { toDomainView, type DomainView } from './domain-views.js';
import { hostnameProblem, normalizeHostname } from './hostname.js';

export interface PublishDomainInput {
  environmentId: string;
  domain: string;
  /** Service name within the environment. */
  service: string;
  /** Container port the service listens on. */
  port: number;
}

export interface PublishDomainDeps {
  db: Database;
  work: DomainWork;
}

/** The caller's environment, or 404 (another user's environment is "not found", never 403). */
export async function findOwnEnvironment(db: Database, principal: Principal, environmentId: string) {
  const environment = await db.environment.findFirst({ where: { id: environmentId, userId: principal.userId } });
  if (!environment) throw notFound('Environment', { details: { environmentId } });
  return environment;
}

/** TCP container ports a deployment spec declares (its `ports` entries; Nginx proxies TCP only). */
function declaredPorts(spec: unknown): number[] {
  const ports = (spec as { ports?: unknown } | null)?.ports;
  if (!Array.isArray(ports)) return [];
  return ports
    .filter((entry) => (entry as { protocol?: unknown }).protocol !== 'udp')
    .map((entry) => Number((entry as { container?: unknown }).container))
    .filter(Number.isInteger);
}

async function findServiceAndCheckPort(db: Database, environment: { id: string; name: string }, name: string, port: number) {
  const service = await db.service.findUnique({
    where: { environmentId_name: { environmentId: environment.id, name } },
    include: {
      currentDeployment: { select: { spec: true } },
      // A first deployment still in progress has no current one yet: its request counts.
      deployments: { orderBy: { createdAt: 'desc' }, take: 1, select: { spec: true } },
    },
  });
  if (!service) {
    throw notFound(`Service "${name}" in environment "${environment.name}"`, {
      suggestions: ['Deploy the service first, or check its name with GET /environments/:id'],
    });
  }
  const ports = declaredPorts((service.currentDeployment ?? service.deployments[0])?.spec);
  if (!ports.includes(port)) {
    throw badRequest(`Service "${name}" does not declare port ${port}`, {
      details: { field: 'port', declaredPorts: ports },
      suggestions: ports.length
        ? [`Use one of the declared ports: ${ports.join(', ')}`]
        : ['Redeploy the service with ports: [{"container": <port>}] (no host port is needed)'],
    });
  }
  return service;
}

/** Hands the domain to the edge worker; if that cannot be asked, nothing is left behind. */
async function requestActivation(db: Database, work: DomainWork, domainId: string): Promise<void> {
  try {
    await work.activate(domainId);
  } catch (error) {
    await db.domain.delete({ where: { id: domainId } }).catch(() => undefined);
    throw unavailable('The job queue', { cause: error, suggestions: ['Retry in a moment'] });
  }
}

export async function publishDomain(deps: PublishDomainDeps, principal: Principal, input: PublishDomainInput): Promise<DomainView> {
  const { db, work } = deps;
  const environment = await findOwnEnvironment(db, principal, input.environmentId);
  const hostname = normalizeHostname(input.domain);
  const problem = hostnameProblem(hostname);
  if (problem) {
    throw badRequest(`Domain "${input.domain.slice(0, 300)}" ${problem}`, {
      details: { field: 'domain', problem },
      suggestions: ['Use a full hostname such as app.example.com'],
    });
  }
  const service = await findServiceAndCheckPort(db, environment, input.service, input.port);

  const existing = await db.domain.findUnique({ where: { hostname }, include: { service: true, certificate: true } });
  if (existing) {
    const same = existing.environmentId === environment.id && existing.serviceId === service.id && existing.port === input.port;
    if (!same) throw conflict(`Domain ${hostname} is already routed elsewhere`, { suggestions: ['Remove the existing route first, or use another hostname'] });
    if (existing.status === 'FAILED') {
      await db.domain.update({ where: { id: existing.id }, data: { status: 'PENDING', reason: null } });
      await work.activate(existing.id);
    }
    return toDomainView({ ...existing, status: existing.status === 'FAILED' ? 'PENDING' : existing.status });
  }

  const id = nanoid();
  try {
    const created = await db.domain.create({
      data: { id, environmentId: environment.id, serviceId: service.id, hostname, port: input.port, certificate: { create: { id: nanoid() } } },
      include: { service: true, certificate: true },
    });
    await requestActivation(db, work, id);
    return toDomainView(created);
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') throw conflict(`Domain ${hostname} is already routed elsewhere`);
    throw error;
  }
}
