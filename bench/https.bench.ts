/**
 * Public HTTPS benchmarks (issue 5), against the real Nginx and Pebble:
 * - apply time (render + atomic write + `nginx -t` + reload) of 1, 100 and
 *   500 HTTPS sites, as a ratio over a bare `nginx -t` + reload of the same
 *   files measured in the same run;
 * - time to a certificate from Pebble end to end (publish -> ACTIVE: HTTP
 *   site applied, order, HTTP-01 through Nginx, finalize, HTTPS site applied).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nanoid } from 'nanoid';
import { median } from './bench-stats.js';
import type { BenchFigure } from './run.js';
import { createEdge } from '../src/https/https-module.js';
import { createLogger } from '../src/logging/logger.js';
import { createNginxRenderer } from '../src/nginx/nginx-renderer.js';
import { NginxProcess } from '../src/nginx/nginx-process.js';
import { SiteApplier, type SiteFileChange } from '../src/nginx/site-applier.js';
import { COMMON_FILE_NAME, siteFileName, type SiteSpec } from '../src/nginx/site-spec.js';
import type Docker from 'dockerode';
import { NGINX_BIN, startTestNginx, type TestNginx } from '../test/support/nginx-instance.js';
import { PEBBLE_LISTENER_CA, startPebble } from '../test/support/pebble.js';
import { testConfig } from '../test/support/test-config.js';
import { createTestDatabase } from '../test/support/test-database.js';

const run = promisify(execFile);
const logger = createLogger({ level: 'silent' });
const ROUNDS = 5;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function selfSignedCertificate(dir: string): Promise<{ certificatePath: string; keyPath: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { certificatePath: join(dir, 'bench.crt'), keyPath: join(dir, 'bench.key') };
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=bench.test', '-keyout', paths.keyPath, '-out', paths.certificatePath]);
  return paths;
}

async function applyFigures(nginx: TestNginx): Promise<BenchFigure[]> {
  const renderer = createNginxRenderer();
  const applier = new SiteApplier(nginx.sitesDir, new NginxProcess({ bin: NGINX_BIN, args: nginx.args }), logger);
  const signalApplier = new SiteApplier(
    nginx.sitesDir,
    new NginxProcess({ bin: NGINX_BIN, args: nginx.args, pidFile: join(nginx.prefix, 'logs', 'nginx.pid') }),
    logger,
  );
  // The master re-reads its configuration after the signal, in the background;
  // wait until it has replaced its worker so one measurement does not pay for the previous reload.
  const masterPid = Number((await readFile(join(nginx.prefix, 'logs', 'nginx.pid'), 'utf8')).trim());
  const children = async () => (await readFile(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8')).trim();
  let lastChildren = await children();
  const settle = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = await children();
      if ((now !== lastChildren && !now.includes(' ')) || Date.now() > deadline) {
        lastChildren = now;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const tls = await selfSignedCertificate(nginx.certsDir);
  const settings = { httpListen: `127.0.0.1:${nginx.httpPort}`, httpsListen: `127.0.0.1:${nginx.httpsPort}`, acmeWebroot: nginx.webroot };
  const figures: BenchFigure[] = [];
  for (const count of [1, 100, 500]) {
    const sites = (round: number): SiteChangeSet =>
      Array.from({ length: count }, (_, index): SiteSpec => ({
        id: `bench_${index}`,
        hostname: `site-${index}.bench.test`,
        // A different upstream port per round, so every round really changes every file.
        upstreams: [{ host: `172.18.${index % 250}.${(index % 200) + 2}`, port: 8000 + round }],
        tls,
      }));
    const changes = (round: number): SiteFileChange[] => [
      { fileName: COMMON_FILE_NAME, content: renderer.renderCommon() },
      ...sites(round).map((site) => ({ fileName: siteFileName(site.hostname), content: renderer.renderSite(site, settings) })),
    ];
    const applyTimes: number[] = [];
    const signalTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      applyTimes.push(await timed(() => applier.apply(changes(2 * round + count))));
      await settle();
      signalTimes.push(await timed(() => signalApplier.apply(changes(2 * round + 1 + count))));
      await settle();
      bareTimes.push(await timed(async () => {
        await run(NGINX_BIN, [...nginx.args, '-t', '-q']);
        await run(NGINX_BIN, [...nginx.args, '-s', 'reload']);
      }));
      await settle();
    }
    const apply = median(applyTimes);
    const signal = median(signalTimes);
    const bare = median(bareTimes);
    figures.push(
      { name: `bare nginx -t + nginx -s reload, ${count} sites`, value: Math.round(bare), unit: 'ms', note: `median of ${ROUNDS}` },
      { name: `apply ${count} HTTPS sites (render, write, nginx -t, nginx -s reload)`, value: Math.round(apply), unit: 'ms', note: `median of ${ROUNDS}` },
      { name: `apply / bare, ${count} sites`, value: Number((apply / bare).toFixed(2)), unit: 'ratio' },
      { name: `apply ${count} HTTPS sites, reload by SIGHUP (NGINX_PID_FILE)`, value: Math.round(signal), unit: 'ms', note: `median of ${ROUNDS}` },
      { name: `apply with SIGHUP / bare, ${count} sites`, value: Number((signal / bare).toFixed(2)), unit: 'ratio' },
    );
    // Leave the next size a clean directory.
    await applier.apply((await applier.listManagedFiles()).map((fileName) => ({ fileName, content: null })));
    await settle();
  }
  return figures;
}

type SiteChangeSet = SiteSpec[];

async function certificateFigures(nginx: TestNginx): Promise<BenchFigure[]> {
  const pebble = await startPebble({ httpPort: nginx.httpPort });
  const database = await createTestDatabase('bench_https');
  try {
    const db = database.db;
    const config = testConfig({ ...nginx.config, ACME_DIRECTORY_URL: pebble.directoryUrl, ACME_CA_CERT: PEBBLE_LISTENER_CA });
    const edge = createEdge({
      config, db, docker: {} as Docker, logger, events: { publish: async () => undefined },
      resolver: { resolve: async (names) => new Map(names.map((name) => [name, []])) },
    });
    const user = await db.user.create({ data: { id: nanoid() } });
    const environment = await db.environment.create({ data: { id: nanoid(), userId: user.id, name: 'bench', networkName: `bench-${nanoid(6)}` } });
    const service = await db.service.create({ data: { id: nanoid(), environmentId: environment.id, name: 'web', swarmName: `bench-web-${nanoid(6)}` } });
    const times: number[] = [];
    for (let index = 0; index < ROUNDS; index += 1) {
      const domain = await db.domain.create({
        data: { id: nanoid(), environmentId: environment.id, serviceId: service.id, hostname: `cert-${index}-${Date.now()}.bench.test`, port: 80, certificate: { create: { id: nanoid() } } },
      });
      times.push(await timed(async () => {
        const state = await edge.activator.activate(domain.id);
        if (state !== 'ACTIVE') throw new Error(`activation ended ${state}: ${(await db.domain.findUnique({ where: { id: domain.id } }))?.reason}`);
      }));
    }
    return [
      { name: 'time to certificate from Pebble, publish -> ACTIVE', value: Math.round(median(times)), unit: 'ms', note: `median of ${ROUNDS}; ECDSA P-256, PEBBLE_VA_NOSLEEP, both Nginx applies included` },
      { name: 'time to certificate, slowest', value: Math.round(Math.max(...times)), unit: 'ms' },
    ];
  } finally {
    await pebble.stop();
    await database.drop();
  }
}

export default async function httpsBench(): Promise<BenchFigure[]> {
  const nginx = await startTestNginx('bench');
  try {
    return [...(await applyFigures(nginx)), ...(await certificateFigures(nginx))];
  } finally {
    await nginx.stop();
  }
}
