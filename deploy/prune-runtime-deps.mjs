#!/usr/bin/env node
// Shrinks a production node_modules to what Runway loads at run time (the
// Dockerfile's build stage runs it after `npm prune --omit=dev`):
// - npm installs peer dependencies of @prisma/client (the Prisma CLI with
//   Studio, TypeScript, ...) even with --omit=dev; Runway never loads them
//   (its own migrator applies migrations). Every package not reachable from
//   package.json's dependencies through dependencies/optionalDependencies goes.
// - Prisma query compilers for databases other than PostgreSQL.
// - Source maps and TypeScript declarations.
// test/ops/packaging.test.ts runs `runway migrate` and `runway api` on the result.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const modules = join(root, 'node_modules');
const reachable = new Set();

function packageDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function visit(dir) {
  if (reachable.has(dir)) return;
  reachable.add(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    const found = packageDir(name, dir);
    if (found) visit(found);
  }
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const name of Object.keys(manifest.dependencies ?? {})) {
  const found = packageDir(name, root);
  if (!found) throw new Error(`dependency ${name} is not installed`);
  visit(found);
}

function topLevel(dir) {
  return readdirSync(dir).filter((e) => !e.startsWith('.')).flatMap((e) => (e.startsWith('@') ? readdirSync(join(dir, e)).map((s) => join(e, s)) : [e]));
}

let removed = 0;
for (const name of topLevel(modules)) {
  const dir = join(modules, name);
  if (!reachable.has(dir)) {
    rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
}
rmSync(join(modules, '.bin'), { recursive: true, force: true });

function sweep(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sweep(path);
    else if (/\.(map|d\.ts|d\.mts|d\.cts)$/.test(entry.name)) rmSync(path);
    else if (/^query_compiler_/.test(entry.name) && !entry.name.includes('postgresql') && dir.includes(join('@prisma', 'client'))) rmSync(path);
  }
}
sweep(modules);
process.stdout.write(`prune-runtime-deps: removed ${removed} unreachable packages\n`);
