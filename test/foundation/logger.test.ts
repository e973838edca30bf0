import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';

describe('logger', () => {
  it('redacts secrets wherever they sit in a log object', () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const logger = createLogger({ destination });
    logger.info({
      apiKey: 'rw_prod_abcdefghijklmnop.SECRET1',
      req: { headers: { authorization: 'Bearer SECRET2', 'x-api-key': 'SECRET3' } },
      deployment: { envVars: { DB_PASSWORD: 'SECRET4' } },
      link: { token: 'SECRET5' },
    }, 'hello');
    const output = lines.join('');
    for (const secret of ['SECRET1', 'SECRET2', 'SECRET3', 'SECRET4', 'SECRET5']) expect(output).not.toContain(secret);
    expect(JSON.parse(output).msg).toBe('hello');
  });
});
