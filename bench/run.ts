/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command
 * line), prints their figures and writes them with the machine they ran on to
 * bench/results.json. Ratios are measured side by side inside each bench.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export type Bench = () => Promise<BenchFigure[]>;

const dir = new URL('.', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((file) => file.endsWith('.bench.ts')).filter(
  (file) => only.length === 0 || only.some((name) => file.startsWith(name)),
);

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  at: new Date().toISOString(),
};
const results: Record<string, BenchFigure[] | { error: string }> = {};
for (const file of files.sort()) {
  const bench = (await import(join(dir, file))).default as Bench;
  process.stdout.write(`\n# ${file}\n`);
  try {
    const figures = await bench();
    for (const figure of figures) {
      process.stdout.write(`${figure.name}: ${figure.value} ${figure.unit}${figure.note ? `  (${figure.note})` : ''}\n`);
    }
    results[file] = figures;
  } catch (error) {
    process.stdout.write(`failed: ${(error as Error).stack}\n`);
    results[file] = { error: (error as Error).message };
    process.exitCode = 1;
  }
}
await writeFile(join(dir, 'results.json'), `${JSON.stringify({ machine, results }, null, 2)}\n`);
process.stdout.write(`\nwritten: bench/results.json (${machine.cpus} x ${machine.cpuModel})\n`);
process.exit();
