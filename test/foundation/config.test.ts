import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { PROJECT_ROOT } from '../../src/version.js';

describe('configuration', () => {
  it('applies the SPEC defaults', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1/runway' });
    expect(config.PORT).toBe(3000);
    expect(config.API_KEY_ENV).toBe('prod');
    expect(config.RATE_LIMIT_MAX).toBe(100);
    expect(config.RATE_LIMIT_TTL).toBe(60_000);
    expect(config.TELEGRAM_API_ROOT).toBe('https://api.telegram.org');
    expect(config.DISCORD_API_BASE).toBe('https://discord.com/api');
    expect(config.TELEGRAM_BOT_TOKEN).toBeUndefined();
  });

  it('parses allowlists of chat ids', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://x@h/db', TELEGRAM_ALLOWED_USERS: '12, 34 ,', DISCORD_ADMINS: '99' });
    expect(config.TELEGRAM_ALLOWED_USERS).toEqual(['12', '34']);
    expect(config.DISCORD_ADMINS).toEqual(['99']);
  });

  it('names every problem once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://nope', TELEGRAM_ALLOWED_USERS: 'alice' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'DATABASE_URL: is required',
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^REDIS_URL: must be a redis/),
        expect.stringMatching(/^TELEGRAM_ALLOWED_USERS: must be numeric/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('stops start-up with one line per problem, non-zero, no stack trace', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'api'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, PORT: '-1', DATABASE_URL: 'mysql://x' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^config error: DATABASE_URL: must be a postgresql/),
      expect.stringMatching(/^config error: PORT: /),
    ]);
    expect(result.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});
