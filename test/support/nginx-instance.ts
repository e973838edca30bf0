/**
 * A real, unprivileged Nginx per test file: its own prefix under /tmp, high
 * ports on 127.0.0.1, pid, logs and temp paths under the prefix, and a sites
 * directory Runway writes into (as /etc/nginx/runway is included in production).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort } from './free-port.js';

const run = promisify(execFile);
export const NGINX_BIN = '/usr/sbin/nginx';

export interface TestNginx {
  prefix: string;
  sitesDir: string;
  certsDir: string;
  webroot: string;
  httpPort: number;
  httpsPort: number;
  /** NGINX_* settings for testConfig(). */
  config: Record<string, string>;
  args: string[];
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

function mainConfig(prefix: string, sitesDir: string): string {
  return `worker_processes 1;
pid ${prefix}/logs/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${prefix}/temp/client_body;
    proxy_temp_path ${prefix}/temp/proxy;
    fastcgi_temp_path ${prefix}/temp/fastcgi;
    uwsgi_temp_path ${prefix}/temp/uwsgi;
    scgi_temp_path ${prefix}/temp/scgi;
    include ${sitesDir}/*.conf;
}
`;
}

export async function startTestNginx(label = 'nginx'): Promise<TestNginx> {
  const prefix = await mkdtemp(join(tmpdir(), `rw-${label}-`));
  // Nginx workers run as nobody when the master is root: the webroot must be readable.
  await chmod(prefix, 0o755);
  const sitesDir = join(prefix, 'sites');
  const certsDir = join(prefix, 'certs');
  const webroot = join(prefix, 'acme');
  for (const dir of [join(prefix, 'conf'), join(prefix, 'logs'), join(prefix, 'temp'), sitesDir, webroot]) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
  await writeFile(join(prefix, 'conf', 'nginx.conf'), mainConfig(prefix, sitesDir));
  const [httpPort, httpsPort] = [await freeTcpPort(), await freeTcpPort()];
  const args = ['-p', prefix, '-c', 'conf/nginx.conf'];
  await run(NGINX_BIN, args, { timeout: 30_000 });
  return {
    prefix,
    sitesDir,
    certsDir,
    webroot,
    httpPort,
    httpsPort,
    args,
    config: {
      NGINX_BIN,
      NGINX_ARGS: args.join(' '),
      NGINX_SITES_DIR: sitesDir,
      NGINX_CERTS_DIR: certsDir,
      NGINX_ACME_WEBROOT: webroot,
      NGINX_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      NGINX_HTTPS_LISTEN: `127.0.0.1:${httpsPort}`,
    },
    errorLog: () => readFile(join(prefix, 'logs', 'error.log'), 'utf8').catch(() => ''),
    async stop() {
      await run(NGINX_BIN, [...args, '-s', 'quit'], { timeout: 30_000 }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
