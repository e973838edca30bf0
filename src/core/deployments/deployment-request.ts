import type { z, ZodType } from 'zod';
import { badRequest } from '../errors.js';
import { environmentNameSchema, resolveImageReference, type ImageDeploymentRequest, type ServiceOptions } from '../service-options-schema.js';
import type { GitDeploymentRequest } from '../../git/git-source-schema.js';

export const environmentName = { parse: (value: unknown) => parseInput(environmentNameSchema, value, 'name') };

/** Validates input a use case received (chat commands reach use cases without a route's schema). */
export function parseInput<S extends ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(`Invalid ${where}`, {
    details: { issues: result.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message })) },
  });
}

/** A validated request to deploy: from an image or from a Git repository. */
export type DeploymentRequest =
  | ({ source: 'IMAGE' } & ImageDeploymentRequest)
  | ({ source: 'GIT' } & GitDeploymentRequest);

/** The service options stored with a deployment (Deployment.spec). envVars are secrets: never log them. */
export type StoredServiceOptions = Omit<ServiceOptions, 'name' | 'keepOnFailure'>;

export function storedOptions(request: DeploymentRequest): StoredServiceOptions {
  const { command, ports, envVars, volumes, replicas, cpuLimit, memoryLimit, healthcheck, capAdd, placement } = request;
  return { command, ports, envVars, volumes, replicas, cpuLimit, memoryLimit, healthcheck, capAdd, placement };
}

/** The service name: given, or derived from the image or repository name as a DNS label. */
export function serviceNameFor(request: DeploymentRequest): string {
  if (request.name) return request.name;
  const raw =
    request.source === 'IMAGE'
      ? resolveImageReference(request.image, request.tag).split('@')[0]!.split('/').pop()!.split(':')[0]!
      : request.repoUrl.replace(/\/+$/, '').split(/[/:]/).pop()!.replace(/\.git$/, '');
  const label = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return label || 'app';
}

/** Host ports a deployment publishes, as `port/protocol`. */
export function hostPorts(options: Pick<StoredServiceOptions, 'ports'>): string[] {
  return (options.ports ?? []).flatMap((port) => (port.host === undefined ? [] : [`${port.host}/${port.protocol ?? 'tcp'}`]));
}
