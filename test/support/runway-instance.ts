import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/logger.js';
import { startRuntime, type Role, type Runtime } from '../../src/runtime.js';
import { testConfig } from './test-config.js';

export interface RunwayInstance {
  runtime: Runtime;
  url: string;
  /** Every log line the instance wrote, for asserting that no secret leaks. */
  logs: string[];
  stop(): Promise<void>;
}

/** Starts an in-process Runway (API by default) on a free port with its logs captured. */
export async function startRunway(env: Record<string, string>, role: Role = 'api'): Promise<RunwayInstance> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  const config = testConfig({ LOG_LEVEL: 'debug', ...env });
  const logger = createLogger({ level: config.LOG_LEVEL, destination });
  const runtime = await startRuntime(config, logger, role);
  return { runtime, url: runtime.url ?? '', logs, stop: () => runtime.stop() };
}
