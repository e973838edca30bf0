/**
 * What the HTTPS tests need from the rest of Runway, made directly until the
 * environments and deployments modules provide it: a real swarm service
 * (busybox httpd, endpoint mode dnsrr, no published port) on an attachable
 * overlay network, and the matching User/Environment/Service/Deployment rows.
 */
import { randomBytes } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import Docker from 'dockerode';
import { nanoid } from 'nanoid';
import type { Database } from '../../src/db/prisma.js';
import type { RunwayEvent } from '../../src/events/runway-event.js';
import { TEST_DOCKER_SOCKET, TEST_IMAGE } from '../support/services.js';

export const docker = new Docker({ socketPath: TEST_DOCKER_SOCKET });
export const TEST_LABEL = 'io.runway.test';

export interface ServiceFixture {
  userId: string;
  environmentId: string;
  serviceId: string;
  swarmName: string;
  body: string;
  remove(): Promise<void>;
}

async function waitForRunningTask(serviceId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const tasks = await docker.listTasks({ filters: { service: [serviceId], 'desired-state': ['running'] } });
    if (tasks.some((task: { Status?: { State?: string } }) => task.Status?.State === 'running')) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the test service never ran');
}

export async function createServiceFixture(db: Database, label: string): Promise<ServiceFixture> {
  const suffix = randomBytes(4).toString('hex');
  const swarmName = `rwtest-${label}-${suffix}`;
  const body = `hello from ${swarmName}`;
  const network = await docker.createNetwork({
    Name: `${swarmName}-net`, Driver: 'overlay', Attachable: true, Labels: { [TEST_LABEL]: label },
  });
  const service = await docker.createService({
    Name: swarmName,
    Labels: { [TEST_LABEL]: label },
    TaskTemplate: {
      ContainerSpec: {
        Image: TEST_IMAGE,
        Command: ['sh', '-c', `mkdir -p /www && echo "${body}" > /www/index.html && exec httpd -f -p 80 -h /www`],
      },
      Networks: [{ Target: network.id }],
      RestartPolicy: { Condition: 'on-failure', MaxAttempts: 3 },
    },
    EndpointSpec: { Mode: 'dnsrr' },
    Mode: { Replicated: { Replicas: 1 } },
  } as never);
  const serviceId = (service as { id: string }).id;
  await waitForRunningTask(serviceId);

  const user = await db.user.create({ data: { id: nanoid(), telegramId: String(Date.now()) + suffix.slice(0, 3).replace(/\D/g, '1'), allowed: true } });
  const environment = await db.environment.create({ data: { id: nanoid(), userId: user.id, name: `env-${suffix}`, networkName: `${swarmName}-net`, networkId: network.id } });
  const row = await db.service.create({ data: { id: nanoid(), environmentId: environment.id, name: 'web', swarmName, swarmServiceId: serviceId } });
  const deployment = await db.deployment.create({
    data: {
      id: nanoid(), jobId: nanoid(16), userId: user.id, environmentId: environment.id, serviceId: row.id,
      source: 'IMAGE', status: 'RUNNING', image: 'local/busybox', tag: '1', spec: { ports: [{ container: 80 }] },
    },
  });
  await db.service.update({ where: { id: row.id }, data: { currentDeploymentId: deployment.id } });

  return {
    userId: user.id,
    environmentId: environment.id,
    serviceId: row.id,
    swarmName,
    body,
    async remove() {
      await docker.getService(serviceId).remove().catch(() => undefined);
      // Removing a network right after its services fails with "in use" while tasks shut down.
      for (let attempt = 0; attempt < 60; attempt += 1) {
        try {
          await docker.getNetwork(network.id).remove();
          return;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      throw new Error(`network ${network.id} could not be removed`);
    },
  };
}

export class RecordingEvents {
  readonly events: RunwayEvent[] = [];
  async publish(event: RunwayEvent): Promise<void> {
    this.events.push(event);
  }
  types(): string[] {
    return this.events.map((event) => event.type);
  }
}

export interface HttpsAnswer {
  status: number;
  body: string;
  serial: string;
  subjectAltName: string;
}

/** GET over HTTPS to 127.0.0.1, trusting only `ca` and checking the certificate against `hostname`. */
export function httpsGet(hostname: string, port: number, ca: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: hostname,
        port,
        path: '/',
        ca,
        servername: hostname,
        agent: false,
        // The name is resolved here instead of by DNS; the certificate is still checked against it.
        lookup: ((_name: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
          options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) as never,
      },
      (response) => {
        const certificate = (response.socket as import('node:tls').TLSSocket).getPeerCertificate();
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, serial: certificate.serialNumber, subjectAltName: certificate.subjectaltname ?? '' }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
