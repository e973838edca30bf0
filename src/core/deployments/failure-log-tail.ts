import type { LogLine, SwarmGateway } from '../../docker/swarm-gateway.js';

/** Bounds of what a failed deployment keeps of its service's output (SPEC section 3, issue 6). */
export const LOG_TAIL_LINES = 30;
export const LOG_TAIL_BYTES = 4_096;
const READ_TIMEOUT_MS = 5_000;
/** The deployment's time comes from the API host's clock, the log times from the engine's. */
const CLOCK_SKEW_MS = 10_000;
/** Shorter values ("1", "yes") would mask ordinary words all over the output. */
const MIN_MASKED_LENGTH = 4;
export const MASK = '[redacted]';

export interface LogTailRequest {
  /** Swarm service id or name. */
  serviceRef: string;
  /** When the deployment began: a failed update's service also holds the previous version's lines. */
  since: Date;
  envVars: Record<string, string> | undefined;
}

/**
 * The newest lines a failed service wrote (stdout and stderr), read before
 * the clean-up removes the service and its logs with it. Env var values are
 * masked: they are secrets and the tail is stored and sent to chats. Returns
 * undefined when the service is gone or has no output; never throws, because
 * failing a deployment must not depend on reading its logs.
 */
export async function captureLogTail(gateway: SwarmGateway, request: LogTailRequest): Promise<string | undefined> {
  try {
    const service = await gateway.inspectService(request.serviceRef);
    if (!service) return undefined;
    const entries: LogLine[] = [];
    const options = { tail: LOG_TAIL_LINES, follow: false, timestamps: true, since: Math.max(0, Math.floor((request.since.getTime() - CLOCK_SKEW_MS) / 1000)) };
    for await (const entry of gateway.serviceLogs(service.id, options, AbortSignal.timeout(READ_TIMEOUT_MS))) entries.push(entry);
    // The engine tails each task (restarts are tasks) on its own; in time order the newest come last.
    const lines = sortByTime(entries).map((entry) => entry.line);
    return boundTail(maskValues(lines.slice(-LOG_TAIL_LINES), request.envVars));
  } catch {
    return undefined;
  }
}

function sortByTime(entries: LogLine[]): LogLine[] {
  // Date.parse drops the engine's nanoseconds; the index keeps lines of one millisecond in order.
  const key = (entry: LogLine) => Date.parse(entry.timestamp ?? '') || 0;
  return entries.map((entry, index) => ({ entry, index })).sort((a, b) => key(a.entry) - key(b.entry) || a.index - b.index).map(({ entry }) => entry);
}

export function maskValues(lines: string[], envVars: Record<string, string> | undefined): string[] {
  const secrets = Object.values(envVars ?? {})
    .filter((value) => value.length >= MIN_MASKED_LENGTH)
    .sort((a, b) => b.length - a.length); // a value containing another is masked whole
  if (secrets.length === 0) return lines;
  return lines.map((line) => secrets.reduce((text, secret) => text.split(secret).join(MASK), line));
}

/** Keeps the newest whole lines within LOG_TAIL_BYTES; a single longer line keeps its end. */
export function boundTail(lines: string[]): string | undefined {
  const kept: string[] = [];
  let bytes = 0;
  for (const line of [...lines].reverse()) {
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > LOG_TAIL_BYTES) {
      if (kept.length === 0) kept.push(Buffer.from(line).subarray(-LOG_TAIL_BYTES + 1).toString('utf8').replace(/^\uFFFD+/, ''));
      break;
    }
    kept.push(line);
    bytes += size;
  }
  const text = kept.reverse().join('\n');
  return text.trim() === '' ? undefined : text;
}
