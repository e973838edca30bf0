// `prisma generate` only checks that a schema-engine binary exists (it never
// runs it), and that binary cannot be downloaded on machines without
// binaries.prisma.sh (ENVIRONMENT.md). Point it at an existing file so
// generation works offline; the client runs on the WebAssembly query compiler.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
