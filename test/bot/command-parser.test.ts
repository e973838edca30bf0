import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.js';
import { parseCommand, tokenize } from '../../src/bot/command-parser.js';

const fails = (name: string, args: string[]) => {
  try {
    parseCommand(name, args);
  } catch (error) {
    if (isAppError(error)) return error;
  }
  throw new Error('expected a 400');
};

describe('chat command parsing', () => {
  it('tokenizes with double quotes', () => {
    expect(tokenize(' shop  nginx env=MSG="hello world" ')).toEqual(['shop', 'nginx', 'env=MSG=hello world']);
    expect(() => tokenize('env=A="open')).toThrow();
  });

  it('parses /deploy with name, ports and env vars', () => {
    expect(parseCommand('deploy', ['shop', 'nginx:1.27', 'name=web', 'port=8080:80', 'port=443', 'env=A=1', 'env=B=x=y'])).toEqual({
      name: 'deploy', env: 'shop', image: 'nginx:1.27', serviceName: 'web',
      ports: [{ host: 8080, container: 80 }, { container: 443 }], envVars: { A: '1', B: 'x=y' },
    });
  });

  it('answers 400 with the usage for bad input, using the REST schemas', () => {
    expect(fails('deploy', ['shop']).message).toBe('Missing image');
    expect(fails('deploy', ['shop', 'nginx; rm -rf /']).status).toBe(400);
    expect(fails('deploy', ['Bad_Env', 'nginx']).message).toContain('DNS label');
    expect(fails('deploy', ['shop', 'nginx', 'port=abc']).message).toContain('port=8080:80');
    expect(fails('deploy', ['shop', 'nginx', 'volume=x']).message).toContain('Unexpected');
    expect(fails('logs', ['abc', '100000']).status).toBe(400);
    expect(fails('notify', ['maybe']).message).toBe('Say on or off');
    expect(fails('allow', ['@someone']).message).toContain('numeric');
    expect(fails('frobnicate', []).suggestions).toContain('/help lists the commands');
  });

  it('parses the other commands', () => {
    expect(parseCommand('logs', ['abc'])).toEqual({ name: 'logs', id: 'abc', lines: 50 });
    expect(parseCommand('api_create', ['logs_read', 'DEPLOYMENTS_READ'])).toEqual({ name: 'api_create', scopes: ['LOGS_READ', 'DEPLOYMENTS_READ'] });
    expect(parseCommand('notify', ['OFF'])).toEqual({ name: 'notify', on: false });
    expect(parseCommand('allow', ['123', 'admin'])).toEqual({ name: 'allow', userId: '123', admin: true });
  });
});
