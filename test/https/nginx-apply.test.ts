/**
 * The effects module against a real Nginx: an invalid template value or a
 * config that fails `nginx -t` never goes live, and the previous config keeps
 * serving.
 */
import { createServer, request, type Server } from 'node:http';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createNginxRenderer } from '../../src/nginx/nginx-renderer.js';
import { NginxCommandError, NginxProcess } from '../../src/nginx/nginx-process.js';
import { NginxConfigRejectedError, SiteApplier } from '../../src/nginx/site-applier.js';
import { COMMON_FILE_NAME, InvalidSiteValueError, siteFileName, type RenderSettings, type SiteSpec } from '../../src/nginx/site-spec.js';
import { NGINX_BIN, startTestNginx, type TestNginx } from '../support/nginx-instance.js';

let nginx: TestNginx;
let applier: SiteApplier;
let settings: RenderSettings;
const backends: Server[] = [];
const renderer = createNginxRenderer();

async function backend(text: string): Promise<number> {
  const server = createServer((_req, res) => res.end(text));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backends.push(server);
  return (server.address() as { port: number }).port;
}

function get(hostname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: nginx.httpPort, headers: { host: hostname } }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** A reload takes effect for new connections shortly after the signal. */
async function eventually(hostname: string, expected: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  let last = '';
  while (Date.now() < deadline) {
    last = await get(hostname).then((r) => r.body, (e: Error) => e.message);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${hostname} answered ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
}

function site(hostname: string, port: number): SiteSpec {
  return { id: hostname.replace(/\./g, '_'), hostname, upstreams: [{ host: '127.0.0.1', port }] };
}

beforeAll(async () => {
  nginx = await startTestNginx('apply');
  applier = new SiteApplier(nginx.sitesDir, new NginxProcess({ bin: NGINX_BIN, args: nginx.args }), createLogger({ level: 'silent' }));
  settings = { httpListen: `127.0.0.1:${nginx.httpPort}`, httpsListen: `127.0.0.1:${nginx.httpsPort}`, acmeWebroot: nginx.webroot };
  const v1 = await backend('v1');
  await applier.apply([
    { fileName: COMMON_FILE_NAME, content: renderer.renderCommon() },
    { fileName: siteFileName('one.test'), content: renderer.renderSite(site('one.test', v1), settings) },
  ]);
  await eventually('one.test', 'v1');
});

afterAll(async () => {
  await nginx?.stop();
  for (const server of backends) server.close();
});

describe('applying nginx sites', () => {
  it('never renders an invalid value, so nothing is written', async () => {
    const before = await readdir(nginx.sitesDir);
    expect(() => renderer.renderSite(site('one.test; return 200 pwned', 1), settings)).toThrow(InvalidSiteValueError);
    expect(await readdir(nginx.sitesDir)).toEqual(before);
    await eventually('one.test', 'v1');
  });

  it('restores the previous file when nginx -t rejects the new one, and keeps serving it', async () => {
    const path = join(nginx.sitesDir, siteFileName('one.test'));
    const previous = await readFile(path, 'utf8');
    const broken = previous.replace('proxy_pass', 'proxy_passs');
    await expect(applier.apply([{ fileName: siteFileName('one.test'), content: broken }])).rejects.toBeInstanceOf(NginxConfigRejectedError);
    expect(await readFile(path, 'utf8')).toBe(previous);
    await eventually('one.test', 'v1');
  });

  it('rolls back every file of a batch, including new ones, when one of them is broken', async () => {
    const v2 = await backend('v2');
    const rejected = applier.apply([
      { fileName: siteFileName('two.test'), content: renderer.renderSite(site('two.test', v2), settings) },
      // A certificate that does not exist: valid syntax, but nginx -t fails to load it.
      {
        fileName: siteFileName('three.test'),
        content: renderer.renderSite({ ...site('three.test', v2), tls: { certificatePath: '/nonexistent/x.crt', keyPath: '/nonexistent/x.key' } }, settings),
      },
    ]);
    await expect(rejected).rejects.toThrow(/x\.crt/);
    expect((await readdir(nginx.sitesDir)).sort()).toEqual([COMMON_FILE_NAME, siteFileName('one.test')].sort());
    expect((await get('two.test')).body).not.toBe('v2');
  });

  it('applies a valid change and serves it after the reload; unchanged content is not reloaded', async () => {
    const v3 = await backend('v3');
    const content = renderer.renderSite(site('one.test', v3), settings);
    expect((await applier.apply([{ fileName: siteFileName('one.test'), content }])).changed).toEqual([siteFileName('one.test')]);
    await eventually('one.test', 'v3');
    expect((await applier.apply([{ fileName: siteFileName('one.test'), content }])).changed).toEqual([]);
  });

  it('tells an nginx that cannot run apart from a rejected config, and still restores the files', async () => {
    const broken = new SiteApplier(nginx.sitesDir, new NginxProcess({ bin: '/nonexistent/nginx', args: nginx.args }), createLogger({ level: 'silent' }));
    const path = join(nginx.sitesDir, siteFileName('one.test'));
    const previous = await readFile(path, 'utf8');
    const error = await broken.apply([{ fileName: siteFileName('one.test'), content: `${previous}# changed\n` }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NginxCommandError);
    expect(error).not.toBeInstanceOf(NginxConfigRejectedError);
    expect((error as NginxCommandError).rejected).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(previous);
  });

  it('does not leave temp files behind and never touches files it does not manage', async () => {
    await writeFile(join(nginx.sitesDir, 'operator.conf'), '# the operator\'s own file\n');
    await expect(applier.apply([{ fileName: 'operator.conf', content: null }])).rejects.toThrow(/not a Runway site file/);
    const files = await readdir(nginx.sitesDir);
    expect(files).toContain('operator.conf');
    expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
