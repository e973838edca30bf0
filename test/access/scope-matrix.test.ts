import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/generated/prisma/enums.js';
import { ALL_SCOPES } from '../../src/core/access/access-dependencies.js';
import { createKeyForUser, createUserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

interface DocumentedRoute {
  method: string;
  path: string;
  access: string | undefined;
}

let t: TestDatabase;
let runway: RunwayInstance;
let routes: DocumentedRoute[];
const keyByScope = new Map<Scope, string>();

beforeAll(async () => {
  t = await createTestDatabase('matrix');
  // The full API process with every module that registers routes; limits high enough for the matrix.
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('matrix'), RATE_LIMIT_MAX: '100000', AUTH_FAIL_LIMIT: '100000' });
  const owner = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'], role: 'ADMIN' });
  for (const scope of ALL_SCOPES) keyByScope.set(scope, (await createKeyForUser(t.db, owner.user.id, { scopes: [scope] })).apiKey);
  const document = (await (await fetch(`${runway.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { 'x-runway-access'?: string; security?: unknown[] }>>;
  };
  // Routes mounted without defineRoute (e.g. /metrics) carry no x-runway-access; with no security they are public.
  routes = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method,
      path,
      access: operation['x-runway-access'] ?? (operation.security?.length === 0 ? 'public' : undefined),
    })),
  );
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

/** Fills path parameters with ids nothing owns: authorization is decided before any lookup. */
function call(route: DocumentedRoute, apiKey?: string): Promise<Response> {
  const path = route.path.replace(/\{[^}]+\}/g, 'AbCdEfGhIjKlMnOp');
  const hasBody = !['get', 'delete'].includes(route.method);
  return fetch(`${runway.url}${path}`, {
    method: route.method.toUpperCase(),
    headers: { ...(apiKey ? { 'x-api-key': apiKey } : {}), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    body: hasBody ? '{}' : undefined,
    signal: AbortSignal.timeout(15_000),
  });
}

const SPEC_ROUTES = [
  'get /auth/keys',
  'post /auth/revoke',
  'post /environments',
  'get /environments',
  'get /environments/{id}',
  'delete /environments/{id}',
  'post /environments/{id}/public',
  'post /deployments',
  'post /deployments/from-git',
  'get /deployments/job/{jobId}',
  'get /deployments/environment/{envId}',
  'get /deployments/{id}/logs',
  'post /deployments/{id}/rollback',
  'delete /deployments/{id}',
];

describe('scope matrix over every documented route', () => {
  it('documents an access rule for every route, and every authenticated SPEC route exists', () => {
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route.access, `${route.method} ${route.path}`).toMatch(/^(public|any|[A-Z_]+)$/);
    const normalize = (entry: string) => entry.replace(/\{[^}]+\}/g, '{}');
    const documented = routes.map((route) => normalize(`${route.method} ${route.path}`));
    const missing = SPEC_ROUTES.filter((entry) => !documented.includes(normalize(entry)));
    expect(missing).toEqual([]);
  });

  it('answers 401 without a key on every non-public route', async () => {
    for (const route of routes.filter((r) => r.access !== 'public')) {
      const res = await call(route);
      expect(res.status, `${route.method} ${route.path}`).toBe(401);
    }
  });

  it('answers 403 for a key lacking the scope and never 401/403 for a key holding it (ADMIN implies all)', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.access !== 'public')) {
      for (const [scope, apiKey] of keyByScope) {
        const allowed = route.access === 'any' || route.access === scope || scope === 'ADMIN';
        const res = await call(route, apiKey);
        const body = (await res.text()).slice(0, 200);
        const ok = allowed ? ![401, 403].includes(res.status) : res.status === 403 && body.includes('"FORBIDDEN"');
        if (!ok) failures.push(`${route.method} ${route.path} with ${scope}: ${res.status} ${body}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('never asks for a key on public routes', async () => {
    for (const route of routes.filter((r) => r.access === 'public')) {
      const res = await call(route);
      expect([401, 403], `${route.method} ${route.path}`).not.toContain(res.status);
    }
  });
});
