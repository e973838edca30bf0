import { nanoid } from 'nanoid';
import type { Database } from '../../src/db/prisma.js';
import type { DeploymentStatus } from '../../src/generated/prisma/enums.js';

export interface SeededDeployment {
  id: string;
  jobId: string;
  userId: string;
  environmentId: string;
  serviceId: string;
}

/** Rows for one deployment (and its user, environment and service) written straight to the database. */
export async function seedDeployment(
  db: Database,
  options: { status: DeploymentStatus; userId?: string; createdAt?: Date; telegramId?: string; envName?: string },
): Promise<SeededDeployment> {
  const userId = options.userId ?? (await db.user.create({ data: { id: nanoid(), telegramId: options.telegramId ?? null } })).id;
  const envName = options.envName ?? `env-${nanoid(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const environment = await db.environment.create({
    data: { id: nanoid(), userId, name: envName, networkName: `rwtest-${nanoid(10)}` },
  });
  const service = await db.service.create({
    data: { id: nanoid(), environmentId: environment.id, name: 'web', swarmName: `rwtest-${nanoid(10)}` },
  });
  const deployment = await db.deployment.create({
    data: {
      id: nanoid(),
      jobId: nanoid(16),
      userId,
      environmentId: environment.id,
      serviceId: service.id,
      source: 'IMAGE',
      status: options.status,
      image: 'local/busybox',
      tag: '1',
      spec: {},
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    },
  });
  return { id: deployment.id, jobId: deployment.jobId, userId, environmentId: environment.id, serviceId: service.id };
}
