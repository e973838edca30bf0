import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Pebble's listener certificate and its CA, made once by scripts/setup.sh. */
export const PEBBLE_CERT_DIR = process.env.RUNWAY_PEBBLE_DIR ?? '/var/lib/runway/pebble';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A real Pebble ACME server on loopback, for checks that only need its directory. */
export async function startPebble(): Promise<{ directoryUrl: string; caCertPath: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rw-pebble-'));
  const [listen, management] = [await freePort(), await freePort()];
  const configPath = join(dir, 'pebble.json');
  await writeFile(configPath, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${listen}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: join(PEBBLE_CERT_DIR, 'cert.pem'),
      privateKey: join(PEBBLE_CERT_DIR, 'key.pem'),
      httpPort: 5002,
      tlsPort: 5001,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }));
  const child: ChildProcess = spawn('/usr/bin/pebble', ['-config', configPath], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pebble did not start: ${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pebble exited ${code}: ${output}`)));
  });
  return {
    directoryUrl: `https://127.0.0.1:${listen}/dir`,
    caCertPath: join(PEBBLE_CERT_DIR, 'ca.pem'),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
