/**
 * Validation of the service options of POST /deployments and
 * POST /deployments/from-git (SPEC section 4, issue 4 item 5). REST routes and
 * chat command parsing share these schemas so both answer the same 400s.
 * Limits come in as parameters (from config) so nothing here reads globals.
 */
import { z } from 'zod';

/** Configured bounds for CPU, memory and replicas. */
export interface ServiceLimits {
  maxCpu: number;
  maxMemoryMb: number;
  maxReplicas: number;
}

/** The bounds from Runway's configuration (SWARM_MAX_*). */
export function serviceLimitsFromConfig(config: {
  SWARM_MAX_CPU: number;
  SWARM_MAX_MEMORY_MB: number;
  SWARM_MAX_REPLICAS: number;
}): ServiceLimits {
  return { maxCpu: config.SWARM_MAX_CPU, maxMemoryMb: config.SWARM_MAX_MEMORY_MB, maxReplicas: config.SWARM_MAX_REPLICAS };
}

// Docker's reference grammar (github.com/distribution/reference, regexp.go).
const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const namePattern = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const referenceRegex = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);

/** A Docker image reference: name[:tag][@digest], at most 255 characters of name. */
export const imageReferenceSchema = z
  .string()
  .min(1)
  .max(512)
  .refine((value) => {
    const match = referenceRegex.exec(value);
    return match !== null && (match[1]?.length ?? 0) <= 255;
  }, 'must be a Docker image reference such as nginx, nginx:1.27 or registry.example.com/team/app:v2');

/** A Docker image tag. */
export const imageTagSchema = z.string().regex(new RegExp(`^${tagPattern}$`), 'must be a Docker tag: letters, digits, _ . - (max 128), not starting with . or -');

/** True when the reference already names a tag or digest (a ':' after the last '/', or '@'). */
export function referenceHasTag(reference: string): boolean {
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  return reference.includes('@') || lastSegment.includes(':');
}

/** The reference a deployment runs: image plus tag, `latest` when neither names one. */
export function resolveImageReference(image: string, tag?: string): string {
  if (referenceHasTag(image)) return image;
  return `${image}:${tag ?? 'latest'}`;
}

const dnsLabelMessage = 'must be a DNS label: 1-63 lowercase letters, digits or -, starting and ending with a letter or digit';
/** Service and environment names (other services resolve them over DNS). */
export const dnsLabelSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, dnsLabelMessage);
export const environmentNameSchema = dnsLabelSchema;
export const serviceNameSchema = dnsLabelSchema;

/** POSIX environment variable names. */
export const envVarNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a POSIX name: letters, digits and _, not starting with a digit').max(256);

export const portNumberSchema = z.number().int().min(1).max(65535);

/** Absolute container path, no `..` segment, no NUL, not `/` itself. */
export const mountPathSchema = z
  .string()
  .max(1024)
  .refine((path) => path.startsWith('/'), 'must be an absolute path')
  .refine((path) => !path.split('/').includes('..'), "must not contain '..'")
  .refine((path) => !/[\0:,\n]/.test(path), 'must not contain NUL, newline, comma or colon')
  .refine((path) => path.replace(/\/+$/, '') !== '', 'must not be /');

/** Volume names as the user gives them (Runway namespaces them per environment). */
export const volumeNameSchema = z.string().regex(/^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/, 'must be 1-63 lowercase letters, digits, _ . -, starting and ending with a letter or digit');

/**
 * Capabilities a deployment may add back after `cap_drop: ALL`: Docker's own
 * default set, so nobody gets more than a plain `docker run` container has
 * (no SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE ...).
 */
export const ALLOWED_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
] as const;
export type Capability = (typeof ALLOWED_CAPABILITIES)[number];

export const capabilitySchema = z
  .string()
  .transform((value) => value.toUpperCase().replace(/^CAP_/, ''))
  .pipe(z.enum(ALLOWED_CAPABILITIES, { error: `must be one of ${ALLOWED_CAPABILITIES.join(', ')}` }));

const argumentSchema = z.string().min(1).max(4096).refine((value) => !value.includes('\0'), 'must not contain NUL');

/** Exec-form command; a string runs through the image's own `sh -c` (inside the container, never on the host). */
export const commandSchema = z.union([
  z.array(argumentSchema).min(1).max(64),
  argumentSchema.transform((command) => ['sh', '-c', command]),
]);

const seconds = (max: number) => z.number().positive().max(max);

/** Health check: `test` as exec form (CMD prefix optional) or a shell string. */
export const healthcheckSchema = z.strictObject({
  test: z.union([
    z.array(argumentSchema).min(1).max(64).transform((test) => (test[0] === 'CMD' || test[0] === 'CMD-SHELL' ? test : ['CMD', ...test])),
    argumentSchema.transform((test) => ['CMD-SHELL', test]),
  ]),
  intervalSeconds: seconds(3600).optional(),
  timeoutSeconds: seconds(3600).optional(),
  retries: z.number().int().min(1).max(100).optional(),
  startPeriodSeconds: z.number().min(0).max(3600).optional(),
});

const numericString = z.string().regex(/^\d+(\.\d+)?$/, 'must be a number').transform(Number);

const memoryUnits: Record<string, number> = { '': 1, k: 1 / 1024, kb: 1 / 1024, m: 1, mb: 1, g: 1024, gb: 1024 };
/** Memory in MB as a number, or a string with unit (`512m`, `1g`, `256MB`). */
const memorySchema = z.union([
  z.number(),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(k|kb|m|mb|g|gb)?$/i, 'must be megabytes or a size like 512m or 1g')
    .transform((value) => {
      const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value) ?? [];
      return Number(amount) * (memoryUnits[(unit ?? '').toLowerCase()] ?? 1);
    }),
]);

export const portMappingSchema = z.strictObject({
  container: portNumberSchema,
  host: portNumberSchema.optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
});

export const volumeMountSchema = z.strictObject({ name: volumeNameSchema, mountPath: mountPathSchema });

/** Node attributes Swarm constraints and spread preferences may name. */
const nodeAttribute = '(?:node\\.(?:id|hostname|role|platform\\.os|platform\\.arch|labels\\.[A-Za-z0-9][A-Za-z0-9._-]{0,127})|engine\\.labels\\.[A-Za-z0-9][A-Za-z0-9._-]{0,127})';

/**
 * Swarm placement: constraints such as `node.role==manager` or
 * `node.labels.zone!=eu-1`, and spread preferences over a node label.
 * Strict grammar: the values reach the Engine API as they are.
 */
export const placementSchema = z.strictObject({
  constraints: z
    .array(z.string().regex(new RegExp(`^${nodeAttribute}\\s*(==|!=)\\s*[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`), 'must look like node.role==manager or node.labels.zone!=eu-1'))
    .max(20)
    .optional(),
  preferences: z
    .array(z.strictObject({ spread: z.string().regex(/^(node|engine)\.labels\.[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be node.labels.<name> or engine.labels.<name>') }))
    .max(5)
    .optional(),
});

/**
 * Service options shared by image and Git deployments. Outputs: cpuLimit in
 * CPUs, memoryLimit in MB, command and healthcheck.test as argument arrays,
 * capAdd without the CAP_ prefix.
 */
export function serviceOptionsSchema(limits: ServiceLimits) {
  return z.strictObject({
    name: serviceNameSchema.optional(),
    command: commandSchema.optional(),
    ports: z
      .array(portMappingSchema)
      .max(20)
      .refine(uniqueBy((port: z.output<typeof portMappingSchema>) => (port.host === undefined ? undefined : `${port.host}/${port.protocol}`)), 'host ports must be unique')
      .optional(),
    envVars: z
      .record(envVarNameSchema, z.string().max(32_768).refine((value) => !value.includes('\0'), 'must not contain NUL'))
      .refine((vars) => Object.keys(vars).length <= 200, 'at most 200 variables')
      .optional(),
    volumes: z.array(volumeMountSchema).max(20).refine(uniqueBy((volume: z.output<typeof volumeMountSchema>) => volume.mountPath), 'mount paths must be unique').optional(),
    replicas: z.number().int().min(1).max(limits.maxReplicas).optional(),
    cpuLimit: z.union([z.number(), numericString]).pipe(z.number().min(0.01).max(limits.maxCpu)).optional(),
    memoryLimit: memorySchema.pipe(z.number().min(6, 'must be at least 6 MB').max(limits.maxMemoryMb)).optional(),
    healthcheck: healthcheckSchema.optional(),
    capAdd: z.array(capabilitySchema).max(ALLOWED_CAPABILITIES.length).optional(),
    /** Keep a failed first deployment's service for debugging (SPEC section 3). */
    keepOnFailure: z.boolean().optional(),
    /** Where Swarm may run the tasks (multi-node swarms, issue 7). */
    placement: placementSchema.optional(),
  });
}

export type ServiceOptionsInput = z.input<ReturnType<typeof serviceOptionsSchema>>;
export type ServiceOptions = z.output<ReturnType<typeof serviceOptionsSchema>>;

/** Body of POST /deployments. */
export function imageDeploymentSchema(limits: ServiceLimits) {
  return serviceOptionsSchema(limits)
    .extend({ environmentId: z.string().min(1).max(64), image: imageReferenceSchema, tag: imageTagSchema.optional() })
    .refine((body) => body.tag === undefined || !referenceHasTag(body.image), {
      message: 'give the tag either in image or in tag, not both',
      path: ['tag'],
    });
}
export type ImageDeploymentRequest = z.output<ReturnType<typeof imageDeploymentSchema>>;

function uniqueBy<T>(key: (item: T) => string | undefined) {
  return (items: T[]) => {
    const keys = items.map(key).filter((value): value is string => value !== undefined);
    return new Set(keys).size === keys.length;
  };
}
