import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino blanks before a line is written. Secrets must never reach logs
 * (SPEC section 7): keys, tokens, magic-link tokens, deployment env values.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.query.token',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'key',
  'secret',
  'token',
  'password',
  'envVars',
  '*.apiKey',
  '*.secret',
  '*.token',
  '*.password',
  '*.envVars',
  '*.privateKey',
  'spec.envVars',
  'config.TELEGRAM_BOT_TOKEN',
  'config.DISCORD_BOT_TOKEN',
  'config.DATABASE_URL',
  'config.METRICS_TOKEN',
];

export type { Logger };

export function createLogger(options: { level?: string; destination?: pino.DestinationStream; base?: object } = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'runway', ...options.base },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}
