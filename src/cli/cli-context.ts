import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isAppError } from '../core/errors.js';

/** Where a command writes; tests pass collectors, `runway` passes stdout/stderr. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Thrown for bad command lines: the dispatcher prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** util.parseArgs with strict options; its errors become UsageErrors. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Exit code for a failed command, after telling the operator why (and what to do) on stderr. */
export function reportFailure(io: CliIo, error: unknown, usage: string): number {
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}`);
    io.err(usage);
    return 2;
  }
  if (isAppError(error)) {
    io.err(`error: ${error.message}`);
    for (const suggestion of error.suggestions) io.err(`  hint: ${suggestion}`);
    return 1;
  }
  io.err(`error: ${(error as Error).message}`);
  return 1;
}

/** Plain fixed-width table: one header line, one line per row. */
export function formatTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, index) => Math.max(header.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}
