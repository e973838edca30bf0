import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';

let t: TestDatabase;
let runway: RunwayInstance;

beforeAll(async () => {
  t = await createTestDatabase('http');
  runway = await startRunway({ DATABASE_URL: t.url, BODY_LIMIT: '1kb' });
});
afterAll(async () => {
  await runway?.stop();
  await t?.drop();
});

function expectErrorShape(body: unknown, code: string): void {
  expect(body).toEqual({
    error: {
      code,
      message: expect.any(String),
      details: expect.any(Object),
      suggestions: expect.any(Array),
      retryable: expect.any(Boolean),
    },
  });
}

describe('HTTP skeleton', () => {
  it('GET / names the service, its version and the docs', async () => {
    const res = await fetch(`${runway.url}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'runway', version: expect.stringMatching(/^\d+\.\d+\.\d+/), docs: '/api/docs', openapi: '/openapi.json' });
  });

  it('unknown routes answer 404 in the SPEC error shape', async () => {
    const res = await fetch(`${runway.url}/no/such/route`);
    expect(res.status).toBe(404);
    expectErrorShape(await res.json(), 'ROUTE_NOT_FOUND');
  });

  it('malformed JSON answers 400 in the SPEC error shape', async () => {
    const res = await fetch(`${runway.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(res.status).toBe(400);
    expectErrorShape(await res.json(), 'MALFORMED_JSON');
  });

  it('oversized bodies answer 413 in the SPEC error shape', async () => {
    const res = await fetch(`${runway.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(4096) }),
    });
    expect(res.status).toBe(413);
    expectErrorShape(await res.json(), 'PAYLOAD_TOO_LARGE');
  });

  it('serves an OpenAPI 3.1 document that documents the system routes and the error schema', async () => {
    const res = await fetch(`${runway.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/', '/health']));
    expect(doc.components.schemas.Error).toBeDefined();
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await fetch(`${runway.url}/api/docs/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
  });

  it('logs requests as JSON lines without query strings', async () => {
    await fetch(`${runway.url}/no-such?token=SECRET-TOKEN-123`);
    const lines = runway.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => (line.req as { path?: string } | undefined)?.path === '/no-such')).toBe(true);
    expect(runway.logs.join('\n')).not.toContain('SECRET-TOKEN-123');
  });
});
