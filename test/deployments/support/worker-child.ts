/**
 * A Runway worker process for the SIGKILL test: configuration from the
 * environment, like `runway worker`. Prints "ready" once its worker runs.
 */
import { loadConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/logging/logger.js';
import { startRuntime } from '../../../src/runtime.js';

const config = loadConfig(process.env);
await startRuntime(config, createLogger({ level: config.LOG_LEVEL }), 'worker');
process.stdout.write('ready\n');
