/**
 * The little that InMemorySwarmGateway understands of what runs inside a
 * container or a build, so the contract suite can drive the fake and the real
 * engine with the same inputs: `sh -c` scripts made of `echo`, `echo ... >&2`,
 * `exit N`, `false`, `sleep`; health checks that run `false` or `exit N`;
 * Dockerfiles with FROM and RUN lines of the same script language.
 */
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { LogLine } from './swarm-gateway.js';

export interface ScriptOutcome {
  lines: LogLine[];
  /** Undefined: the process keeps running. */
  exitCode?: number;
}

/** Runs a command in the tiny script language; anything unknown is a long-running process. */
export function simulateCommand(command: string[] | undefined): ScriptOutcome {
  if (!command || command.length === 0) return { lines: [] };
  const script = command[0] === 'sh' && command[1] === '-c' ? (command[2] ?? '') : command.join(' ');
  const lines: LogLine[] = [];
  for (const statement of script.split(/;|&&|\n/).map((part) => part.trim()).filter(Boolean)) {
    const exit = /^exit\s+(\d+)$/.exec(statement);
    if (exit) return { lines, exitCode: Number(exit[1]) };
    if (statement === 'false') return { lines, exitCode: 1 };
    if (statement === 'true') continue;
    const echo = /^echo\s+(.*?)(\s*(?:1)?>&2)?$/.exec(statement);
    if (echo) lines.push({ stream: echo[2] ? 'stderr' : 'stdout', line: unquote(echo[1] ?? '') });
  }
  return { lines };
}

/** A health check fails when its command would exit non-zero in the script language. */
export function healthcheckFails(test: string[]): boolean {
  const [kind, ...rest] = test;
  const command = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : rest;
  return (simulateCommand(command).exitCode ?? 0) !== 0;
}

function unquote(text: string): string {
  return text.replace(/^(['"])(.*)\1$/, '$2');
}

/** Reads a tar build context into a map of path -> content (text files are enough here). */
export async function readTarContext(context: Readable): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const parser = extract();
  const done = new Promise<void>((resolve, reject) => {
    parser.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => {
        chunks.push(Buffer.from(chunk as Buffer));
      });
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.resume();
    });
    parser.on('finish', resolve);
    parser.on('error', reject);
    context.on('error', reject);
  });
  context.pipe(parser);
  await done;
  return files;
}

export interface BuildSimulation {
  log: string[];
  error?: string;
}

/** Follows a Dockerfile's FROM and RUN lines with the classic builder's messages. */
export function simulateBuild(files: Map<string, string>, dockerfile: string, imageExists: (reference: string) => boolean): BuildSimulation {
  const text = files.get(dockerfile);
  if (text === undefined) return { log: [], error: `Cannot locate specified Dockerfile: ${dockerfile}` };
  const instructions = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const log: string[] = [];
  for (const [index, instruction] of instructions.entries()) {
    log.push(`Step ${index + 1}/${instructions.length} : ${instruction}`);
    const [keyword = '', ...args] = instruction.split(/\s+/);
    const rest = args.join(' ');
    if (keyword.toUpperCase() === 'FROM' && !imageExists(args[0] ?? '')) {
      return { log, error: `pull access denied for ${args[0]}, repository does not exist or may require 'docker login'` };
    }
    if (keyword.toUpperCase() === 'RUN') {
      const outcome = simulateCommand(['sh', '-c', rest]);
      log.push(...outcome.lines.map((line) => line.line));
      if (outcome.exitCode !== undefined && outcome.exitCode !== 0) {
        return { log, error: `The command '/bin/sh -c ${rest}' returned a non-zero code: ${outcome.exitCode}` };
      }
    }
  }
  log.push('Successfully built');
  return { log };
}
