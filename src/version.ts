import { readFileSync } from 'node:fs';

/** package.json's version, read once; works from src/ (tsx) and dist/ alike. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The repository root, for prisma/migrations and nginx-templates/. */
export const PROJECT_ROOT = new URL('..', import.meta.url).pathname;
