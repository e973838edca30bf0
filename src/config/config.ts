import { z } from 'zod';

const csvIds = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((id) => id.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^\d+$/, 'must be numeric chat ids, comma-separated')));

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .default('')
  .transform((value) => value === 'true' || value === '1');

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const optionalUrl = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional());

/**
 * Every setting Runway reads, from the environment (SPEC section 7). Parsed
 * once at start-up; nothing else reads process.env.
 */
const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  /** Prefix of every BullMQ queue and Redis key, so installations can share a Redis. */
  REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]+$/).default('runway'),
  DOCKER_HOST: optionalString.pipe(
    z.string().regex(/^(unix|tcp|https?):\/\//, 'must be unix://, tcp://, http:// or https://').optional(),
  ),
  DOCKER_TLS_VERIFY: bool,
  DOCKER_CERT_PATH: optionalString,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.url().default('http://127.0.0.1:3000'),
  API_KEY_ENV: z.string().regex(/^[a-z0-9]{1,16}$/, 'must be 1-16 lowercase letters or digits').default('prod'),
  /** Largest JSON or form body the API accepts. */
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb').default('100kb'),

  TELEGRAM_BOT_TOKEN: optionalString,
  TELEGRAM_API_ROOT: z.url().default('https://api.telegram.org'),
  /** `polling` (default): the worker long-polls. `webhook`: Telegram posts to PUBLIC_URL/telegram/webhook (API processes). */
  TELEGRAM_MODE: z.enum(['polling', 'webhook']).default('polling'),
  /** Secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token (webhook mode); derived from the token when unset. */
  TELEGRAM_WEBHOOK_SECRET: optionalString.pipe(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 of A-Z a-z 0-9 _ -').optional()),
  /** Worker processes elect one to run the bots and the notifier; another takes over this long after it dies. */
  CHAT_LEASE_TTL_MS: z.coerce.number().int().min(300).default(15_000),
  TELEGRAM_ALLOWED_USERS: csvIds,
  TELEGRAM_ADMINS: csvIds,
  DISCORD_BOT_TOKEN: optionalString,
  DISCORD_API_BASE: z.url().default('https://discord.com/api'),
  DISCORD_ALLOWED_USERS: csvIds,
  DISCORD_ADMINS: csvIds,

  ACME_DIRECTORY_URL: z.url().default('https://acme-staging-v02.api.letsencrypt.org/directory'),
  ACME_EMAIL: optionalString.pipe(z.email().optional()),
  ACME_CA_CERT: optionalString,
  ACME_ORDERS_PER_DOMAIN_PER_WEEK: z.coerce.number().int().min(1).default(20),
  /** Renew certificates this many days before they expire. */
  ACME_RENEW_BEFORE_DAYS: z.coerce.number().int().min(1).default(30),
  /** Publish certificate.expiring when a certificate this close to expiry could not be renewed. */
  ACME_EXPIRY_WARNING_DAYS: z.coerce.number().int().min(1).default(14),
  /** First retry delay after a failed order; doubles per failure up to ACME_RETRY_MAX_MS. */
  ACME_RETRY_BASE_MS: z.coerce.number().int().min(0).default(300_000),
  ACME_RETRY_MAX_MS: z.coerce.number().int().min(1000).default(86_400_000),
  /** node-cron schedule of the renewal and retry job (one instance at a time). */
  ACME_RENEWAL_SCHEDULE: z.string().default('0 17 * * * *'),

  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_TTL: z.coerce.number().int().min(1000).default(60_000),
  /** Per key, per minute (SPEC section 4). */
  DEPLOY_RATE_LIMIT: z.coerce.number().int().min(1).default(5),
  GIT_DEPLOY_RATE_LIMIT: z.coerce.number().int().min(1).default(3),
  /** Failed authentications allowed per client address in AUTH_FAIL_WINDOW ms before 429. */
  AUTH_FAIL_LIMIT: z.coerce.number().int().min(1).default(20),
  AUTH_FAIL_WINDOW: z.coerce.number().int().min(1000).default(900_000),
  /** Magic-link lifetime in ms (SPEC section 2: 15 minutes). */
  MAGIC_LINK_TTL: z.coerce.number().int().min(10_000).default(900_000),
  /** Lifetime of keys made from magic links in ms; 0: they never expire. */
  API_KEY_TTL: z.coerce.number().int().min(0).default(0),
  /** How long a verified key is remembered in memory (ms); revocations still apply at once. */
  KEY_CACHE_TTL: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
  /** How often lastUsedAt is written to the database (ms). */
  KEY_LAST_USED_FLUSH: z.coerce.number().int().min(100).default(30_000),

  NGINX_BIN: z.string().default('nginx'),
  /** Extra arguments for every nginx invocation, e.g. `-p /srv/nginx -c conf/nginx.conf`. */
  NGINX_ARGS: z.string().default(''),
  /** When set, reloads signal this master pid instead of running `nginx -s reload` (which re-parses everything). */
  NGINX_PID_FILE: optionalString,
  NGINX_SITES_DIR: z.string().default('/etc/nginx/runway'),
  NGINX_CERTS_DIR: z.string().default('/var/lib/runway/certs'),
  NGINX_ACME_WEBROOT: z.string().default('/var/www/runway-acme'),
  /** `listen` of the HTTP and HTTPS server blocks: a port or address:port. */
  NGINX_HTTP_LISTEN: z.string().regex(/^([\d.]+:|\[[0-9a-fA-F:]+\]:)?\d{1,5}$/, 'must be a port or address:port').default('80'),
  NGINX_HTTPS_LISTEN: z.string().regex(/^([\d.]+:|\[[0-9a-fA-F:]+\]:)?\d{1,5}$/, 'must be a port or address:port').default('443'),
  /**
   * Bridge through which the host's Nginx reaches swarm tasks without published
   * ports: every task on an overlay network also gets an address on it.
   */
  NGINX_UPSTREAM_NETWORK: z.string().default('docker_gwbridge'),
  /** node-cron schedule that re-reads task addresses and re-renders upstreams when they change. */
  NGINX_SYNC_SCHEDULE: z.string().default('*/10 * * * * *'),

  SWARM_ENDPOINT_MODE: z.enum(['vip', 'dnsrr']).default('dnsrr'),
  SWARM_PUBLISH_MODE: z.enum(['ingress', 'host']).default('host'),
  SWARM_DEFAULT_CPU: z.coerce.number().positive().default(1),
  SWARM_DEFAULT_MEMORY_MB: z.coerce.number().int().positive().default(512),
  SWARM_MAX_CPU: z.coerce.number().positive().default(4),
  SWARM_MAX_MEMORY_MB: z.coerce.number().int().positive().default(8192),
  SWARM_MAX_REPLICAS: z.coerce.number().int().positive().default(10),
  DEPLOY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000),
  /** How long a started service may take to report its desired tasks running (issue 4). */
  SERVICE_CONVERGE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
  /** How long a new task must have been running before a deployment is RUNNING: catches commands that crash right after start. */
  SERVICE_STABLE_MS: z.coerce.number().int().min(0).default(500),
  /** `missing`: pull only absent images; `always`: pull every time (a failed pull of a local image goes on). */
  DEFAULT_PULL_POLICY: z.enum(['missing', 'always', 'never']).default('missing'),
  DEPLOY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(20),
  /** BullMQ lock: a killed worker's job is taken over after at most about lock + stalled interval. */
  QUEUE_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  QUEUE_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(15_000),
  ALLOW_FILE_GIT_URLS: bool,
  RUNWAY_STATE_DIR: z.string().default('/var/lib/runway'),
  METRICS_TOKEN: optionalString,
  /** Worker-only processes serve /metrics and /health here (0: any free port). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Express `trust proxy`: which peers may set X-Forwarded-For (per-address limits), e.g. `loopback, uniquelocal` behind the compose edge. */
  TRUST_PROXY: z.string().min(1).default('loopback'),
  /** Registry every swarm node pulls from; images built from Git are pushed there (`host[:port][/path]`). Unset: they stay on the building engine. */
  BUILD_REGISTRY: optionalString.pipe(z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/, 'must look like registry.example.com:5000/runway').optional()),
  BUILD_REGISTRY_USERNAME: optionalString,
  BUILD_REGISTRY_PASSWORD: optionalString,
});

export type Config = z.infer<typeof configSchema>;

/** Thrown when configuration is invalid; `problems` holds one line per problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '(environment)');
    const message = issue.code === 'invalid_type' && env[key] === undefined ? 'is required' : issue.message;
    return `${key}: ${message}`;
  });
  throw new ConfigError(problems);
}
