import { describe, expect, it } from 'vitest';
import {
  capabilitySchema,
  dnsLabelSchema,
  envVarNameSchema,
  imageDeploymentSchema,
  imageReferenceSchema,
  mountPathSchema,
  resolveImageReference,
  serviceOptionsSchema,
} from '../../src/core/service-options-schema.js';

const limits = { maxCpu: 2, maxMemoryMb: 1024, maxReplicas: 5 };
const options = serviceOptionsSchema(limits);
const deployment = imageDeploymentSchema(limits);

describe('image references (Docker reference grammar)', () => {
  it.each([
    'nginx',
    'nginx:1.27',
    'library/nginx:1.27-alpine',
    'local/busybox:1',
    'registry.example.com:5000/team/app:v2',
    'localhost:5000/app',
    'ghcr.io/owner/my_app__x.y',
    `nginx@sha256:${'a'.repeat(64)}`,
    `nginx:1@sha256:${'b'.repeat(64)}`,
  ])('accepts %s', (reference) => {
    expect(imageReferenceSchema.safeParse(reference).success).toBe(true);
  });

  it.each([
    'nginx; rm -rf /',
    'Nginx',
    'nginx:',
    '-nginx',
    'nginx:-1',
    'nginx && curl x',
    '$(id)',
    'nginx:1.27 --privileged',
    'a//b',
    `nginx@sha256:${'z'.repeat(64)}`,
    '',
    `${'a'.repeat(256)}`,
  ])('rejects %s', (reference) => {
    expect(imageReferenceSchema.safeParse(reference).success).toBe(false);
  });

  it('resolves image plus tag', () => {
    expect(resolveImageReference('nginx')).toBe('nginx:latest');
    expect(resolveImageReference('nginx', '1.27')).toBe('nginx:1.27');
    expect(resolveImageReference('localhost:5000/app', 'v1')).toBe('localhost:5000/app:v1');
    expect(resolveImageReference('nginx:1.27')).toBe('nginx:1.27');
  });
});

describe('names, env vars, mount paths, capabilities', () => {
  it('takes DNS labels only', () => {
    for (const good of ['web', 'a', 'shop-api', 'x1', 'a'.repeat(63)]) expect(dnsLabelSchema.safeParse(good).success).toBe(true);
    for (const bad of ['', 'Web', '-web', 'web-', 'a_b', 'a.b', 'a'.repeat(64), 'a b']) expect(dnsLabelSchema.safeParse(bad).success).toBe(false);
  });

  it('takes POSIX env var names only', () => {
    for (const good of ['A', '_X', 'DATABASE_URL', 'a1']) expect(envVarNameSchema.safeParse(good).success).toBe(true);
    for (const bad of ['A B', '1A', 'A-B', 'A=B', '']) expect(envVarNameSchema.safeParse(bad).success).toBe(false);
  });

  it('takes absolute mount paths without ..', () => {
    for (const good of ['/data', '/var/lib/app/', '/a.b/c..d']) expect(mountPathSchema.safeParse(good).success).toBe(true);
    for (const bad of ['../../etc', 'data', '/data/../etc', '/', '//', '/a:b', '/a\0b', '/..']) expect(mountPathSchema.safeParse(bad).success).toBe(false);
  });

  it('normalizes allowed capabilities and rejects others', () => {
    expect(capabilitySchema.parse('cap_net_bind_service')).toBe('NET_BIND_SERVICE');
    expect(capabilitySchema.parse('CHOWN')).toBe('CHOWN');
    for (const bad of ['SYS_ADMIN', 'NET_ADMIN', 'ALL', 'CAP_SYS_PTRACE', 'nonsense']) expect(capabilitySchema.safeParse(bad).success).toBe(false);
  });
});

describe('service options', () => {
  it('accepts a full valid body and normalizes it', () => {
    const parsed = deployment.parse({
      environmentId: 'env_1',
      image: 'local/busybox',
      tag: '1',
      name: 'web',
      command: 'httpd -f -p 80',
      ports: [{ container: 80, host: 8080 }],
      envVars: { GREETING: 'hello world' },
      volumes: [{ name: 'data', mountPath: '/data' }],
      replicas: 2,
      cpuLimit: '0.5',
      memoryLimit: '256m',
      healthcheck: { test: ['nc', '-z', '127.0.0.1', '80'], intervalSeconds: 2 },
      capAdd: ['net_bind_service'],
    });
    expect(parsed.command).toEqual(['sh', '-c', 'httpd -f -p 80']);
    expect(parsed.ports).toEqual([{ container: 80, host: 8080, protocol: 'tcp' }]);
    expect(parsed.cpuLimit).toBe(0.5);
    expect(parsed.memoryLimit).toBe(256);
    expect(parsed.healthcheck?.test).toEqual(['CMD', 'nc', '-z', '127.0.0.1', '80']);
    expect(parsed.capAdd).toEqual(['NET_BIND_SERVICE']);
  });

  it('converts memory units', () => {
    expect(options.parse({ memoryLimit: '1g' }).memoryLimit).toBe(1024);
    expect(options.parse({ memoryLimit: 300 }).memoryLimit).toBe(300);
    expect(options.parse({ memoryLimit: '512MB' }).memoryLimit).toBe(512);
  });

  it.each([
    ['port 0', { ports: [{ container: 0 }] }],
    ['port 65536', { ports: [{ container: 80, host: 65536 }] }],
    ['duplicate host ports', { ports: [{ container: 80, host: 8080 }, { container: 81, host: 8080 }] }],
    ['env name with space', { envVars: { 'A B': 'x' } }],
    ['mount path ../../etc', { volumes: [{ name: 'data', mountPath: '../../etc' }] }],
    ['volume name with slash', { volumes: [{ name: '../x', mountPath: '/x' }] }],
    ['too many CPUs', { cpuLimit: 3 }],
    ['zero CPUs', { cpuLimit: 0 }],
    ['too much memory', { memoryLimit: '2g' }],
    ['memory nonsense', { memoryLimit: '12 parsecs' }],
    ['replicas over bound', { replicas: 6 }],
    ['replicas zero', { replicas: 0 }],
    ['uppercase service name', { name: 'Web' }],
    ['unknown field', { privileged: true }],
    ['SYS_ADMIN capability', { capAdd: ['SYS_ADMIN'] }],
    ['healthcheck without test', { healthcheck: { intervalSeconds: 1 } }],
    ['empty command array', { command: [] }],
  ])('rejects %s', (_label, body) => {
    expect(options.safeParse(body).success).toBe(false);
  });

  it('rejects a tag given twice and an injected image', () => {
    expect(deployment.safeParse({ environmentId: 'e', image: 'nginx:1', tag: '2' }).success).toBe(false);
    const result = deployment.safeParse({ environmentId: 'e', image: 'nginx; rm -rf /' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['image']);
  });
});
