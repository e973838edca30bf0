import { loadConfig, type Config } from '../../src/config/config.js';
import { TEST_REDIS_URL } from './services.js';

/** A valid configuration for tests; pass what the test cares about. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/runway_test',
    REDIS_URL: TEST_REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    RUNWAY_STATE_DIR: '/tmp',
    // Worker-only runtimes open a metrics listener; never the fixed default port in tests.
    METRICS_PORT: '0',
    ...overrides,
  });
}
