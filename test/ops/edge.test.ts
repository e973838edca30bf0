import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNginxRenderer } from '../../src/nginx/nginx-renderer.js';
import { COMMON_FILE_NAME, siteFileName } from '../../src/nginx/site-spec.js';
import { EDGE_LABEL, reloadEdgeContainers } from '../../src/ops/edge-nginx.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { freeTcpPort } from '../support/free-port.js';
import { TEST_DOCKER_SOCKET, TEST_IMAGE } from '../support/services.js';

const run = promisify(execFile);

/**
 * The edge config of the image, with its fixed paths and ports moved into a
 * temp dir: the same directives Nginx checks and serves in production.
 */
describe('edge Nginx config (deploy/edge)', () => {
  let dir: string;
  let api: Server;
  let apiPort: number;
  let httpPort: number;
  let nginx: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rw-edge-'));
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'sites'));
    // Like the container's /tmp: where an unprivileged nginx -t writes its pid and temp paths.
    await mkdir(join(dir, 'run'));
    await chmod(join(dir, 'run'), 0o1777);
    api = createServer((req, res) => res.end(JSON.stringify({ path: req.url, forwardedFor: req.headers['x-forwarded-for'] ?? null })));
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiPort = (api.address() as AddressInfo).port;
    httpPort = await freeTcpPort();
    const main = (await readFile(join(PROJECT_ROOT, 'deploy/edge/nginx.conf'), 'utf8'))
      .replaceAll('/tmp/', `${dir}/run/`)
      .replaceAll('/etc/runway-edge/', `${dir}/`)
      .replaceAll('/etc/nginx/runway/', `${dir}/sites/`);
    const apiConf = (await readFile(join(PROJECT_ROOT, 'deploy/edge/api.conf'), 'utf8'))
      .replace(/server 127\.0\.0\.1:3000 /, `server 127.0.0.1:${apiPort} `)
      .replace(/listen 80 default_server/, `listen 127.0.0.1:${httpPort} default_server`);
    await writeFile(join(dir, 'nginx.conf'), main);
    await writeFile(join(dir, 'api.conf'), apiConf);
    // What Runway's worker writes: the common file and a TLS site, from the real templates.
    const renderer = createNginxRenderer();
    await writeFile(join(dir, 'sites', COMMON_FILE_NAME), renderer.renderCommon());
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=shop.example.test',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    await chmod(join(dir, 'key.pem'), 0o600);
    await run('chown', ['nobody', join(dir, 'key.pem')]);
    const settings = { httpListen: `127.0.0.1:${httpPort}`, httpsListen: `127.0.0.1:${await freeTcpPort()}`, acmeWebroot: join(dir, 'webroot') };
    const site = { id: 'dom1', hostname: 'shop.example.test', upstreams: [{ host: '127.0.0.1', port: apiPort }], tls: { certificatePath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') } };
    await writeFile(join(dir, 'sites', siteFileName(site.hostname)), renderer.renderSite(site, settings));
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((resolve) => nginx!.once('exit', resolve));
    }
    await new Promise((resolve) => api.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('passes `nginx -t` with rendered sites through runway-edge-nginx as an unprivileged user, as the worker container runs it', async () => {
    const tsx = join(PROJECT_ROOT, 'node_modules/.bin/tsx');
    const check = ['-e', 'stderr', '-c', join(dir, 'nginx.conf'), '-t'];
    const result = await run('runuser', ['-u', 'nobody', '--', tsx, join(PROJECT_ROOT, 'src/ops/edge-nginx.ts'), ...check], {
      env: { PATH: process.env.PATH, HOME: '/tmp' },
    });
    expect(result.stderr).toContain('test is successful');
  });

  it('rejects a broken site file, so Runway never makes it live', async () => {
    await writeFile(join(dir, 'sites', 'rw-broken.conf'), 'server { listen 8080; nonsense_directive on; }\n');
    const failure = await run('nginx', ['-e', 'stderr', '-c', join(dir, 'nginx.conf'), '-t']).catch((error: { stderr: string }) => error.stderr);
    await rm(join(dir, 'sites', 'rw-broken.conf'));
    expect(failure).toContain('nonsense_directive');
  });

  it('serves /edge-health and proxies everything else to the API replicas', async () => {
    nginx = spawn('nginx', ['-e', 'stderr', '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${httpPort}`;
    await expect.poll(() => fetch(`${base}/edge-health`).then((r) => r.status, () => 0), { timeout: 5_000 }).toBe(200);
    // Only one of the three upstream ports is up here: Nginx must skip the dead ones.
    // A published site on the same port: by name, HTTP redirects to HTTPS once a certificate exists.
    // (fetch cannot set Host; node:http can.)
    const site = await new Promise<{ status?: number; location?: string }>((resolve, reject) => {
      get(`${base}/x`, { headers: { host: 'shop.example.test' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode, location: res.headers.location });
      }).on('error', reject);
    });
    expect(site.status).toBe(301);
    expect(site.location).toMatch(/^https:\/\/shop\.example\.test/);
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(`${base}/health?x=${i}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ path: `/health?x=${i}`, forwardedFor: '127.0.0.1' });
    }
  });
});

describe('runway-edge-nginx (NGINX_BIN in compose workers)', () => {
  const docker = new Docker({ socketPath: TEST_DOCKER_SOCKET });
  const label = `test-${process.pid}-${Date.now()}`;
  let container: Docker.Container;

  beforeAll(async () => {
    container = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', 'trap "echo got-hup" HUP; echo ready; while true; do sleep 1; done'],
      Labels: { [EDGE_LABEL]: label, 'io.runway.instance': label },
    });
    await container.start();
  });

  afterAll(async () => {
    await container.remove({ force: true });
  });

  const logs = async () => (await container.logs({ stdout: true, stderr: true })).toString();

  it('reloads the edge by sending SIGHUP to the labelled container', async () => {
    await expect.poll(logs, { timeout: 5_000 }).toContain('ready');
    const names = await reloadEdgeContainers(docker, label);
    expect(names).toHaveLength(1);
    await expect.poll(logs, { timeout: 5_000 }).toContain('got-hup');
  });

  it('fails when no edge container runs, so Runway reports the failed reload', async () => {
    await expect(reloadEdgeContainers(docker, `${label}-absent`)).rejects.toThrow(/no running container labelled/);
  });

  it('passes everything but `-s reload` to the local nginx', async () => {
    const tsx = join(PROJECT_ROOT, 'node_modules/.bin/tsx');
    const version = await run(tsx, ['src/ops/edge-nginx.ts', '-v'], { cwd: PROJECT_ROOT });
    expect(version.stderr).toMatch(/nginx version/);
    const reload = await run(tsx, ['src/ops/edge-nginx.ts', '-e', 'stderr', '-s', 'reload'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, RUNWAY_EDGE_LABEL: label, DOCKER_HOST: `unix://${TEST_DOCKER_SOCKET}` },
    });
    expect(reload.stdout).toMatch(/^reloaded /);
    const missing = await run(tsx, ['src/ops/edge-nginx.ts', '-s', 'reload'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, RUNWAY_EDGE_LABEL: `${label}-absent` },
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in missing && missing.code).toBe(1);
    expect(missing.stderr).toContain('edge reload failed');
  });
});
