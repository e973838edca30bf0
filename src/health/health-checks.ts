import { statfs } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import type Docker from 'dockerode';
import type { Redis } from 'ioredis';
import type { Database } from '../db/prisma.js';

export interface CheckOutcome {
  ok: boolean;
  detail?: string;
  [extra: string]: unknown;
}

export interface CheckResult extends CheckOutcome {
  latencyMs: number;
}

export type HealthCheck = () => Promise<CheckOutcome>;

export interface HealthReport {
  status: 'ok' | 'degraded';
  failing: string[];
  checks: Record<string, CheckResult>;
}

/** Each check gets this long before it counts as failed, so /health answers even when a dependency hangs. */
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runHealthChecks(checks: Record<string, HealthCheck>): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        const result = await withTimeout(check(), CHECK_TIMEOUT_MS);
        return [name, { ...result, latencyMs: Math.round(performance.now() - started) }];
      } catch (error) {
        return [name, { ok: false, detail: (error as Error).message, latencyMs: Math.round(performance.now() - started) }];
      }
    }),
  );
  const failing = entries.filter(([, result]) => !result.ok).map(([name]) => name);
  return { status: failing.length ? 'degraded' : 'ok', failing, checks: Object.fromEntries(entries) };
}

export function databaseCheck(db: Database): HealthCheck {
  return async () => {
    await db.$queryRaw`SELECT 1`;
    return { ok: true };
  };
}

export function redisCheck(redis: Redis): HealthCheck {
  return async () => {
    // While ioredis is between reconnect attempts it would queue the PING;
    // answer from the connection state instead of waiting out the timeout.
    if (redis.status === 'reconnecting' || redis.status === 'end' || redis.status === 'close') {
      return { ok: false, detail: `connection ${redis.status}` };
    }
    const pong = await redis.ping();
    return { ok: pong === 'PONG' };
  };
}

/** One swarm node as /health reports it. */
export interface SwarmNodeSummary {
  id: string;
  hostname?: string;
  role?: string;
  /** ready, down, unknown, disconnected. */
  state?: string;
  /** active, pause, drain. */
  availability?: string;
  leader: boolean;
  managerReachability?: string;
  addr?: string;
  engineVersion?: string;
  labels: Record<string, string>;
}

/** Only managers can list nodes; a node that is down does not make Runway unhealthy, it is reported. */
async function listSwarmNodes(docker: Docker): Promise<SwarmNodeSummary[]> {
  const nodes = (await docker.listNodes()) as Array<{
    ID: string;
    Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
    Description?: { Hostname?: string; Engine?: { EngineVersion?: string } };
    Status?: { State?: string; Addr?: string };
    ManagerStatus?: { Leader?: boolean; Reachability?: string };
  }>;
  return nodes.map((node) => ({
    id: node.ID,
    hostname: node.Description?.Hostname,
    role: node.Spec?.Role,
    state: node.Status?.State,
    availability: node.Spec?.Availability,
    leader: Boolean(node.ManagerStatus?.Leader),
    managerReachability: node.ManagerStatus?.Reachability,
    addr: node.Status?.Addr,
    engineVersion: node.Description?.Engine?.EngineVersion,
    labels: node.Spec?.Labels ?? {},
  }));
}

export function dockerCheck(docker: Docker): HealthCheck {
  return async () => {
    const info = await docker.info();
    const swarm = info.Swarm?.LocalNodeState as string | undefined;
    const isManager = Boolean(info.Swarm?.ControlAvailable);
    const ok = swarm === 'active' && isManager;
    const nodeList = ok ? await listSwarmNodes(docker) : [];
    return {
      ok,
      swarm,
      manager: isManager,
      nodes: info.Swarm?.Nodes,
      nodesReady: ok ? nodeList.filter((node) => node.state === 'ready').length : undefined,
      nodeList,
      engineVersion: info.ServerVersion,
      ...(ok ? {} : { detail: swarm === 'active' ? 'this engine is not a swarm manager' : `swarm is ${swarm ?? 'unknown'}` }),
    };
  };
}

export function diskCheck(path: string, minFreeBytes: number): HealthCheck {
  return async () => {
    const stats = await statfs(path);
    const freeBytes = stats.bavail * stats.bsize;
    const ok = freeBytes >= minFreeBytes;
    return { ok, path, freeBytes, ...(ok ? {} : { detail: `only ${Math.round(freeBytes / 1e6)} MB free` }) };
  };
}

export function memoryCheck(minFreeBytes: number): HealthCheck {
  return async () => {
    const freeBytes = freemem();
    const ok = freeBytes >= minFreeBytes;
    return {
      ok,
      freeBytes,
      totalBytes: totalmem(),
      rssBytes: process.memoryUsage.rss(),
      ...(ok ? {} : { detail: `only ${Math.round(freeBytes / 1e6)} MB free` }),
    };
  };
}
