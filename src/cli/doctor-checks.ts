import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../config/config.js';
import { parseDatabaseUrl } from '../db/database-url.js';
import { readCaCert } from '../https/https-module.js';
import { parseNginxArgs } from '../nginx/nginx-process.js';

const run = promisify(execFile);

/** One line of `runway doctor`: what was checked, what was found, and what to do about it. */
export interface DoctorResult {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const ok = (name: string, detail: string): DoctorResult => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix: string): DoctorResult => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): DoctorResult => ({ name, status: 'fail', detail, fix });

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** PostgreSQL reachable, and which migrations are still to apply (start-up applies them). */
export async function checkDatabase(config: Config, migrationsDir: string): Promise<DoctorResult[]> {
  const { connectionString, schema } = parseDatabaseUrl(config.DATABASE_URL);
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
    const results = [ok('database', `PostgreSQL ${version} reachable (schema ${schema})`)];
    const files = (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    const ledger = await client
      .query<{ migration_name: string }>(
        `SELECT migration_name FROM "${schema}"."_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      )
      .then((result) => new Set(result.rows.map((row) => row.migration_name)))
      .catch(() => new Set<string>());
    const pending = files.filter((name) => !ledger.has(name));
    results.push(
      pending.length
        ? warn('migrations', `${pending.length} of ${files.length} not applied: ${pending.join(', ')}`, 'run `runway migrate` (every `runway api|worker|all` also applies them at start)')
        : ok('migrations', `all ${files.length} applied`),
    );
    return results;
  } catch (error) {
    const code = errorCode(error);
    const fix =
      code === 'ECONNREFUSED' || code === 'ETIMEDOUT'
        ? 'start PostgreSQL or point DATABASE_URL at it (host, port)'
        : code === '3D000'
          ? 'create the database (createdb) named in DATABASE_URL'
          : code === '28P01' || code === '28000'
            ? 'fix the user/password in DATABASE_URL or pg_hba.conf'
            : 'check DATABASE_URL';
    return [fail('database', (error as Error).message, fix)];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Redis reachable; BullMQ needs 6.2+ and `maxmemory-policy noeviction` (evicted job keys lose jobs). */
export async function checkRedis(config: Config): Promise<DoctorResult[]> {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // ioredis rejects connect() with "Connection is closed"; the cause arrives as an 'error' event.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? 'unknown';
    const [major = 0, minor = 0] = version.split('.').map(Number);
    const results = [
      major > 6 || (major === 6 && minor >= 2)
        ? ok('redis', `Redis ${version} reachable`)
        : warn('redis', `Redis ${version} is older than 6.2`, 'upgrade Redis to 6.2 or newer (BullMQ)'),
    ];
    const policy = await redis.config('GET', 'maxmemory-policy').then((reply) => (reply as string[])[1]).catch(() => undefined);
    if (policy && policy !== 'noeviction') {
      results.push(warn('redis-eviction', `maxmemory-policy is ${policy}`, 'set maxmemory-policy noeviction: evicted queue keys lose jobs'));
    }
    return results;
  } catch (error) {
    return [fail('redis', (cause ?? (error as Error)).message, 'start Redis or point REDIS_URL at it')];
  } finally {
    redis.disconnect();
  }
}

interface NodeInfo {
  Description?: { Hostname?: string };
  Status?: { State?: string };
  Spec?: { Availability?: string };
}

/** Docker engine reachable, this engine a swarm manager, every node ready. */
export async function checkDocker(docker: Docker, config: Config): Promise<DoctorResult[]> {
  let version: { Version?: string; ApiVersion?: string };
  try {
    version = await docker.version();
  } catch (error) {
    const code = errorCode(error);
    const fix =
      code === 'EACCES'
        ? "give Runway's user the Docker socket's group (docker group, or group_add with the socket's gid in compose)"
        : code === 'ENOENT' || code === 'ECONNREFUSED'
          ? 'start the Docker engine (dockerd) or set DOCKER_HOST'
          : 'check DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH';
    return [fail('docker', (error as Error).message, fix)];
  }
  const results = [ok('docker', `Docker engine ${version.Version} (API ${version.ApiVersion})`)];
  const info = await docker.info();
  const state = info.Swarm?.LocalNodeState as string | undefined;
  if (state !== 'active') {
    return [...results, fail('swarm', `swarm is ${state ?? 'unknown'}`, 'run `docker swarm init --advertise-addr <this host>` or join this engine to a swarm')];
  }
  if (!info.Swarm?.ControlAvailable) {
    return [...results, fail('swarm', 'this engine is a swarm worker, not a manager', 'point DOCKER_HOST at a manager node, or promote this node (`docker node promote`)')];
  }
  const nodes = (await docker.listNodes()) as NodeInfo[];
  const notReady = nodes.filter((node) => node.Status?.State !== 'ready' || node.Spec?.Availability !== 'active');
  results.push(
    notReady.length
      ? warn('swarm', `manager; ${nodes.length - notReady.length}/${nodes.length} nodes ready and active; not: ${notReady.map((n) => `${n.Description?.Hostname} (${n.Status?.State}/${n.Spec?.Availability})`).join(', ')}`, 'bring the nodes back (`docker node ls`) or remove them (`docker node rm`)')
      : ok('swarm', `manager; ${nodes.length} node${nodes.length === 1 ? '' : 's'} ready`),
  );
  results.push(await checkEndpointMode(config));
  return results;
}

/** VIP endpoint mode and the ingress mesh need IPVS in the kernel; without it they silently time out. */
async function checkEndpointMode(config: Config): Promise<DoctorResult> {
  const wantsIpvs = config.SWARM_ENDPOINT_MODE === 'vip' || config.SWARM_PUBLISH_MODE === 'ingress';
  const local = !config.DOCKER_HOST || config.DOCKER_HOST.startsWith('unix://');
  const modes = `endpoint mode ${config.SWARM_ENDPOINT_MODE}, publish mode ${config.SWARM_PUBLISH_MODE}`;
  if (!wantsIpvs || !local) return ok('swarm-modes', modes);
  const hasIpvs = await access('/proc/net/ip_vs').then(() => true, () => false);
  return hasIpvs
    ? ok('swarm-modes', `${modes}; IPVS present`)
    : warn('swarm-modes', `${modes}, but this kernel shows no IPVS (/proc/net/ip_vs)`, 'load ip_vs (modprobe ip_vs) or set SWARM_ENDPOINT_MODE=dnsrr and SWARM_PUBLISH_MODE=host');
}

/** Writable, or missing under a writable parent (Runway creates its directories). */
async function canCreateOrWrite(dir: string): Promise<boolean> {
  for (let current = dir; ; current = dirname(current)) {
    try {
      await access(current);
    } catch {
      if (dirname(current) === current) return false;
      continue;
    }
    return access(current, constants.W_OK).then(() => true, () => false);
  }
}

/** The Nginx binary answers, its whole configuration passes `nginx -t`, and Runway can write its directories. */
export async function checkNginx(config: Config): Promise<DoctorResult[]> {
  const args = parseNginxArgs(config.NGINX_ARGS);
  try {
    const { stderr } = await run(config.NGINX_BIN, ['-v'], { timeout: 10_000 });
    const results = [ok('nginx', stderr.trim() || config.NGINX_BIN)];
    try {
      await run(config.NGINX_BIN, [...args, '-t', '-q'], { timeout: 30_000 });
      results.push(ok('nginx-config', `\`${[config.NGINX_BIN, ...args, '-t'].join(' ')}\` passes`));
    } catch (error) {
      const output = `${(error as { stderr?: string }).stderr ?? ''}`.trim().split('\n').slice(-2).join(' | ');
      results.push(fail('nginx-config', output || (error as Error).message, 'fix the file nginx names above, or NGINX_ARGS (-p/-c) so it tests the Nginx that serves Runway'));
    }
    for (const [key, dir] of [['NGINX_SITES_DIR', config.NGINX_SITES_DIR], ['NGINX_CERTS_DIR', config.NGINX_CERTS_DIR], ['NGINX_ACME_WEBROOT', config.NGINX_ACME_WEBROOT]] as const) {
      if (!(await canCreateOrWrite(dir))) {
        results.push(fail('nginx-dirs', `${key} ${dir} is not writable`, `give Runway's user write access to ${dir} (or mount a volume there)`));
      }
    }
    return results;
  } catch (error) {
    return [fail('nginx', `${config.NGINX_BIN}: ${(error as Error).message}`, 'install Nginx (apt-get install nginx-light) or set NGINX_BIN')];
  }
}

function getJson(url: string, ca: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: ca ? new Agent({ ca }) : undefined, timeout: 10_000, headers: { accept: 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: undefined });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

/** The ACME directory answers with newNonce/newAccount/newOrder, over TLS trusted with ACME_CA_CERT. */
export async function checkAcme(config: Config): Promise<DoctorResult[]> {
  const results: DoctorResult[] = [];
  try {
    const { status, body } = await getJson(config.ACME_DIRECTORY_URL, readCaCert(config.ACME_CA_CERT));
    const directory = body as Record<string, unknown> | undefined;
    if (status !== 200 || !directory?.newNonce || !directory.newAccount || !directory.newOrder) {
      results.push(fail('acme', `${config.ACME_DIRECTORY_URL} answered ${status} without an ACME directory`, 'set ACME_DIRECTORY_URL to the CA\'s directory URL'));
    } else {
      results.push(ok('acme', `directory ${config.ACME_DIRECTORY_URL} answers`));
    }
  } catch (error) {
    const message = (error as Error).message;
    const tls = /certificate|self.signed|CERT_/i.test(message);
    results.push(fail('acme', `${config.ACME_DIRECTORY_URL}: ${message}`, tls ? 'set ACME_CA_CERT to the CA certificate (PEM or a path) of the ACME server' : 'check ACME_DIRECTORY_URL and outbound HTTPS access'));
  }
  if (!config.ACME_EMAIL) results.push(warn('acme-email', 'ACME_EMAIL is not set', 'set ACME_EMAIL so the CA can warn you about expiring certificates'));
  return results;
}

function registryGet(url: string, authorization?: string): Promise<{ status: number; challenge: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? request : httpRequest)(url, { timeout: 10_000, headers: authorization ? { authorization } : {} }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? '') });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * BUILD_REGISTRY answers the Registry v2 API, and Basic credentials (when
 * configured) are accepted. Loopback registries are plain HTTP, as Docker
 * allows them; others must speak HTTPS.
 */
export async function checkRegistry(config: Config): Promise<DoctorResult[]> {
  if (!config.BUILD_REGISTRY) return [];
  const host = config.BUILD_REGISTRY.split('/')[0]!;
  const scheme = /^(127\.|localhost(:|$))/.test(host) ? 'http' : 'https';
  const url = `${scheme}://${host}/v2/`;
  try {
    const first = await registryGet(url);
    if (first.status === 200) return [ok('registry', `${host} answers the Registry v2 API`)];
    if (first.status !== 401) return [fail('registry', `${url} answered ${first.status}`, 'check BUILD_REGISTRY: it must be a Docker registry (Registry HTTP API v2)')];
    if (!/^basic/i.test(first.challenge)) return [ok('registry', `${host} answers (token authentication; credentials are checked at the first push)`)];
    if (!config.BUILD_REGISTRY_USERNAME) return [fail('registry', `${host} wants credentials`, 'set BUILD_REGISTRY_USERNAME and BUILD_REGISTRY_PASSWORD')];
    const basic = `Basic ${Buffer.from(`${config.BUILD_REGISTRY_USERNAME}:${config.BUILD_REGISTRY_PASSWORD ?? ''}`).toString('base64')}`;
    const second = await registryGet(url, basic);
    return second.status === 200
      ? [ok('registry', `${host} accepts BUILD_REGISTRY_USERNAME's credentials`)]
      : [fail('registry', `${host} refused the credentials (${second.status})`, 'fix BUILD_REGISTRY_USERNAME / BUILD_REGISTRY_PASSWORD')];
  } catch (error) {
    return [fail('registry', `${url}: ${(error as Error).message}`, 'check BUILD_REGISTRY and that this host reaches it')];
  }
}

/** Public URL and chat front doors: not failures, but what an operator usually wants to know. */
export function checkSettings(config: Config): DoctorResult[] {
  const results: DoctorResult[] = [];
  const publicUrl = new URL(config.PUBLIC_URL);
  results.push(
    ['127.0.0.1', 'localhost'].includes(publicUrl.hostname)
      ? warn('public-url', `PUBLIC_URL is ${config.PUBLIC_URL}`, 'set PUBLIC_URL to the address people open magic links at')
      : ok('public-url', config.PUBLIC_URL),
  );
  const bots = [config.TELEGRAM_BOT_TOKEN && 'telegram', config.DISCORD_BOT_TOKEN && 'discord'].filter(Boolean);
  results.push(bots.length ? ok('bots', `enabled: ${bots.join(', ')}`) : warn('bots', 'no bot token set', 'set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN'));
  if (!config.METRICS_TOKEN) results.push(warn('metrics', '/metrics is open', 'set METRICS_TOKEN, or keep /metrics on a private network'));
  return results;
}

export const MIGRATIONS_SUBDIR = join('prisma', 'migrations');
