import { z } from 'zod';
import { badRequest } from '../core/errors.js';
import { environmentNameSchema, imageReferenceSchema } from '../core/service-options-schema.js';

/**
 * Chat commands parsed into typed input. Telegram hands us argument text,
 * Discord typed options that are turned into the same argument list, so both
 * go through this one parser; deeper validation (image grammar, ports, env
 * names, limits) is the REST schema's, applied by the command handler.
 */
export type CommandInput =
  | { name: 'start' | 'help' | 'keys' | 'envs' }
  | { name: 'api_create'; scopes: string[] }
  | { name: 'revoke'; keyId: string }
  | { name: 'env_create'; envName: string }
  | { name: 'deploy'; env: string; image: string; serviceName?: string; ports: { host?: number; container: number }[]; envVars: Record<string, string> }
  | { name: 'status'; jobId: string }
  | { name: 'logs'; id: string; lines: number }
  | { name: 'rollback'; id: string }
  | { name: 'notify'; on: boolean }
  | { name: 'allow'; userId: string; admin: boolean };

export const DEFAULT_LOG_LINES = 50;
export const MAX_LOG_LINES = 500;

const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id of letters, digits, _ or -');
const chatUserIdSchema = z.string().regex(/^\d{1,32}$/, 'must be a numeric user id');

/** Splits argument text on spaces; double quotes keep spaces (`env=MSG="hello world"`). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (const char of text) {
    if (char === '"') {
      quoted = !quoted;
      started = true;
    } else if (/\s/.test(char) && !quoted) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quoted) throw badRequest('An opening " has no closing "');
  if (started) tokens.push(current);
  return tokens;
}

function check<S extends z.ZodType>(schema: S, value: unknown, what: string, usage: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(`${what} ${result.error.issues[0]?.message ?? 'is invalid'}`, { suggestions: [`Usage: ${usage}`] });
}

function required(args: string[], index: number, what: string, usage: string): string {
  const value = args[index];
  if (value === undefined) throw badRequest(`Missing ${what}`, { suggestions: [`Usage: ${usage}`] });
  return value;
}

/** Parses the arguments of one command; throws a 400 AppError with the usage on bad input. */
export function parseCommand(name: string, args: string[]): CommandInput {
  const usage = (rest: string) => `/${name} ${rest}`.trim();
  switch (name) {
    case 'start':
    case 'help':
    case 'keys':
    case 'envs':
      return { name };
    case 'api_create':
      return { name, scopes: args.map((scope) => scope.toUpperCase()) };
    case 'revoke':
      return { name, keyId: check(idSchema, required(args, 0, 'keyId', usage('<keyId>')), 'keyId', usage('<keyId>')) };
    case 'env_create':
      return { name, envName: check(environmentNameSchema, required(args, 0, 'name', usage('<name>')), 'name', usage('<name>')) };
    case 'deploy':
      return parseDeploy(args);
    case 'status':
      return { name, jobId: check(idSchema, required(args, 0, 'jobId', usage('<jobId>')), 'jobId', usage('<jobId>')) };
    case 'logs':
      return parseLogs(args);
    case 'rollback':
      return { name, id: check(idSchema, required(args, 0, 'id', usage('<jobId or deploymentId>')), 'id', usage('<jobId or deploymentId>')) };
    case 'notify': {
      const state = required(args, 0, 'on or off', usage('on|off')).toLowerCase();
      if (state !== 'on' && state !== 'off') throw badRequest('Say on or off', { suggestions: [usage('on|off')] });
      return { name, on: state === 'on' };
    }
    case 'allow': {
      const userId = check(chatUserIdSchema, required(args, 0, 'user id', usage('<user id> [admin]')), 'user id', usage('<user id> [admin]'));
      return { name, userId, admin: args[1]?.toLowerCase() === 'admin' };
    }
    default:
      throw badRequest(`Unknown command /${name}`, { suggestions: ['/help lists the commands'] });
  }
}

const DEPLOY_USAGE = '/deploy <env> <image[:tag]> [name=..] [port=HOST:CONTAINER] [env=K=V ...]';

function parseDeploy(args: string[]): CommandInput {
  const env = check(environmentNameSchema, required(args, 0, 'environment', DEPLOY_USAGE), 'environment', DEPLOY_USAGE);
  const image = check(imageReferenceSchema, required(args, 1, 'image', DEPLOY_USAGE), 'image', DEPLOY_USAGE);
  const input: Extract<CommandInput, { name: 'deploy' }> = { name: 'deploy', env, image, ports: [], envVars: {} };
  for (const arg of args.slice(2)) {
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq).toLowerCase() : '';
    const value = arg.slice(eq + 1);
    if (key === 'name') input.serviceName = value;
    else if (key === 'port') input.ports.push(parsePort(value));
    else if (key === 'env') {
      const split = value.indexOf('=');
      if (split <= 0) throw badRequest(`env=${value} must look like env=KEY=value`, { suggestions: [DEPLOY_USAGE] });
      input.envVars[value.slice(0, split)] = value.slice(split + 1);
    } else {
      throw badRequest(`Unexpected "${arg}"`, { suggestions: [DEPLOY_USAGE] });
    }
  }
  return input;
}

function parsePort(value: string): { host?: number; container: number } {
  const match = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(value);
  if (!match) throw badRequest(`port=${value} must look like port=8080:80 or port=80`, { suggestions: [DEPLOY_USAGE] });
  return match[1] ? { host: Number(match[1]), container: Number(match[2]) } : { container: Number(match[2]) };
}

function parseLogs(args: string[]): CommandInput {
  const usage = '/logs <jobId or deploymentId> [lines]';
  const id = check(idSchema, required(args, 0, 'id', usage), 'id', usage);
  const lines = args[1] === undefined ? DEFAULT_LOG_LINES : check(z.coerce.number().int().min(1).max(MAX_LOG_LINES), args[1], 'lines', usage);
  return { name: 'logs', id, lines };
}
