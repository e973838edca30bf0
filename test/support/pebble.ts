/**
 * Debian's Pebble (a real ACME server) and pebble-challtestsrv (its DNS) for
 * one test file, with the flags ENVIRONMENT.md verified: the listener
 * certificate made by set-up, no random validation sleeps, no nonce
 * rejections, challtestsrv answering A queries with 127.0.0.1 and no AAAA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort } from './free-port.js';

export const PEBBLE_DIR = '/var/lib/runway/pebble';
/** CA of Pebble's own listener certificate: what ACME_CA_CERT names. */
export const PEBBLE_LISTENER_CA = join(PEBBLE_DIR, 'ca.pem');

export interface TestPebble {
  directoryUrl: string;
  managementUrl: string;
  /** Pebble's issuing root, regenerated at every start: what HTTPS clients must trust. */
  issuingRoot(): Promise<string>;
  /** Makes challtestsrv answer SERVFAIL for the host (the CA cannot resolve it). */
  setServfail(host: string): Promise<void>;
  /** Makes the host's A record exactly `address`. */
  addA(host: string, address: string): Promise<void>;
  stop(): Promise<void>;
}

const agent = new Agent({ ca: readFileSync(PEBBLE_LISTENER_CA) });

function httpsGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms`);
}

function track(child: ChildProcess, output: string[]): void {
  child.stdout?.on('data', (chunk) => output.push(String(chunk)));
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
}

export async function startPebble(options: { httpPort: number; certificateValidityPeriodS?: number; domainBlocklist?: string[] }): Promise<TestPebble> {
  const [dnsPort, challManagement, listen, management, tlsPort] = [
    await freeUdpPort(), await freeTcpPort(), await freeTcpPort(), await freeTcpPort(), await freeTcpPort(),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'rw-pebble-'));
  const output: string[] = [];
  const chall = spawn('/usr/bin/pebble-challtestsrv', [
    '-defaultIPv6', '', '-defaultIPv4', '127.0.0.1', '-dns01', `127.0.0.1:${dnsPort}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challManagement}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(chall, output);
  const challUrl = `http://127.0.0.1:${challManagement}`;
  await waitFor('pebble-challtestsrv', async () => (await fetch(`${challUrl}/clear-request-history`, { method: 'POST', body: '{"host":"x","type":"http"}' })).status < 500);

  const configPath = join(dir, 'pebble-config.json');
  await writeFile(configPath, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${listen}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: join(PEBBLE_DIR, 'cert.pem'),
      privateKey: join(PEBBLE_DIR, 'key.pem'),
      httpPort: options.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      domainBlocklist: options.domainBlocklist ?? [],
      ...(options.certificateValidityPeriodS ? { certificateValidityPeriod: options.certificateValidityPeriodS } : {}),
    },
  }));
  const pebble = spawn('/usr/bin/pebble', ['-config', configPath, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No authorization reuse (default 50%): every order really runs its challenge.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  track(pebble, output);
  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  const managementUrl = `https://127.0.0.1:${management}`;
  try {
    await waitFor('pebble', async () => (await httpsGet(directoryUrl)).status === 200);
  } catch (error) {
    chall.kill();
    pebble.kill();
    throw new Error(`${(error as Error).message}: ${output.join('')}`);
  }

  return {
    directoryUrl,
    managementUrl,
    issuingRoot: async () => (await httpsGet(`${managementUrl}/roots/0`)).body,
    setServfail: (host) => post(`${challUrl}/set-servfail`, { host }),
    async addA(host, address) {
      // add-a appends to what the host already has: clear it first so the answer is exactly `address`.
      await post(`${challUrl}/clear-a`, { host });
      await post(`${challUrl}/add-a`, { host, addresses: [address] });
    },
    async stop() {
      for (const child of [pebble, chall]) {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
