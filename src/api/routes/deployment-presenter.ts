import { z } from 'zod';
import type { StoredServiceOptions } from '../../core/deployments/deployment-request.js';
import { describeSource } from '../../core/deployments/deployment-transitions.js';

const statusSchema = z.enum(['PENDING', 'BUILDING', 'PULLING_IMAGE', 'CREATING_VOLUMES', 'STARTING_CONTAINERS', 'RUNNING', 'FAILED', 'STOPPED', 'SUPERSEDED']);

export const transitionSchema = z.object({ from: statusSchema.nullable(), to: statusSchema, reason: z.string().nullable(), at: z.iso.datetime() });

export const deploymentSchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    environmentId: z.string(),
    service: z.string(),
    status: statusSchema,
    source: z.enum(['IMAGE', 'GIT']),
    sourceRef: z.string(),
    image: z.string().nullable(),
    builtImage: z.string().nullable(),
    errorMessage: z.string().nullable(),
    /** Names only: values are secrets. */
    envVarNames: z.array(z.string()),
    options: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    transitions: z.array(transitionSchema).optional(),
    buildLog: z.string().nullable().optional(),
    /** A failed deployment's last service log lines (stdout and stderr), kept after its service was removed. */
    logTail: z.array(z.string()).nullable().optional(),
  })
  .openapi('Deployment');

export const startedSchema = z
  .object({ jobId: z.string(), deploymentId: z.string(), status: z.literal('PENDING'), rolledBackTo: z.string().optional() })
  .openapi('DeploymentStarted');

interface DeploymentRow {
  id: string;
  jobId: string;
  environmentId: string;
  status: z.infer<typeof statusSchema>;
  source: 'IMAGE' | 'GIT';
  image: string | null;
  tag: string | null;
  repoUrl: string | null;
  branch: string | null;
  commitSha: string | null;
  builtImage: string | null;
  errorMessage: string | null;
  buildLog?: string | null;
  logTail?: string | null;
  spec: unknown;
  createdAt: Date;
  finishedAt: Date | null;
  service: { name: string };
  transitions?: { fromStatus: z.infer<typeof statusSchema> | null; toStatus: z.infer<typeof statusSchema>; reason: string | null; at: Date }[];
}

/** A deployment as clients see it: env var values are never sent back (the stored log tail has them masked). */
export function presentDeployment(row: DeploymentRow, options: { withBuildLog?: boolean } = {}) {
  const { envVars, ...rest } = (row.spec ?? {}) as StoredServiceOptions;
  return {
    id: row.id,
    jobId: row.jobId,
    environmentId: row.environmentId,
    service: row.service.name,
    status: row.status,
    source: row.source,
    sourceRef: describeSource(row),
    image: row.image,
    builtImage: row.builtImage,
    errorMessage: row.errorMessage,
    envVarNames: Object.keys(envVars ?? {}),
    options: rest as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    ...(row.transitions
      ? { transitions: row.transitions.map((t) => ({ from: t.fromStatus, to: t.toStatus, reason: t.reason, at: t.at.toISOString() })) }
      : {}),
    ...(options.withBuildLog ? { buildLog: row.buildLog ?? null, logTail: row.logTail ? row.logTail.split('\n') : null } : {}),
  };
}
