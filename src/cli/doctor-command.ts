import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { createDockerClient } from '../docker/docker-client.js';
import { PROJECT_ROOT } from '../version.js';
import type { CliIo } from './cli-context.js';
import { checkAcme, checkDatabase, checkDocker, checkNginx, checkRedis, checkRegistry, checkSettings, MIGRATIONS_SUBDIR, type DoctorResult } from './doctor-checks.js';

/** Each area gets this long; a hanging dependency becomes a failed line, not a hanging doctor. */
const CHECK_TIMEOUT_MS = 15_000;

async function bounded(name: string, check: () => Promise<DoctorResult[]>): Promise<DoctorResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DoctorResult[]>((resolve) => {
    timer = setTimeout(() => resolve([{ name, status: 'fail', detail: `no answer within ${CHECK_TIMEOUT_MS / 1000} s`, fix: `check that ${name} is reachable from this host` }]), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check().catch((error: Error) => [{ name, status: 'fail' as const, detail: error.message, fix: `check ${name}` }]),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check of a valid configuration, in parallel, in a stable order. */
export async function runDoctorChecks(config: Config): Promise<DoctorResult[]> {
  const docker = createDockerClient({ dockerHost: config.DOCKER_HOST, tlsVerify: config.DOCKER_TLS_VERIFY, certPath: config.DOCKER_CERT_PATH });
  const groups = await Promise.all([
    bounded('database', () => checkDatabase(config, join(PROJECT_ROOT, MIGRATIONS_SUBDIR))),
    bounded('redis', () => checkRedis(config)),
    bounded('docker', () => checkDocker(docker, config)),
    bounded('nginx', () => checkNginx(config)),
    bounded('acme', () => checkAcme(config)),
    bounded('registry', () => checkRegistry(config)),
  ]);
  return [{ name: 'config', status: 'ok', detail: 'configuration is valid' }, ...groups.flat(), ...checkSettings(config)];
}

export function formatResult(result: DoctorResult): string {
  const tag = { ok: ' ok ', warn: 'warn', fail: 'FAIL' }[result.status];
  return `[${tag}] ${result.name.padEnd(14)} ${result.detail}${result.fix ? `  -> fix: ${result.fix}` : ''}`;
}

/**
 * `runway doctor`: one line per check with what to fix; exit 1 when any check
 * fails (warnings do not fail it), so scripts and CI can gate on it.
 */
export async function runDoctor(io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      io.out(formatResult({ name: 'config', status: 'fail', detail: problem, fix: 'set it in the environment or the env file' }));
    }
    io.out('doctor: configuration is invalid; nothing else was checked');
    return 1;
  }
  const results = await runDoctorChecks(config);
  for (const result of results) io.out(formatResult(result));
  const failed = results.filter((result) => result.status === 'fail').length;
  const warned = results.filter((result) => result.status === 'warn').length;
  io.out(`doctor: ${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}, ${results.length - failed - warned} ok`);
  return failed ? 1 : 0;
}
