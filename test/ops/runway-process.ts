import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PROJECT_ROOT } from '../../src/version.js';

export interface RunwayProcess {
  role: 'api' | 'worker';
  child: ChildProcess;
  /** API base URL, or the worker's /metrics + /health listener. */
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * One real `runway api|worker` process (src/main.ts through tsx, or a compiled entry), as an
 * operator runs it; resolves once it listens. Output is kept for assertions.
 */
export async function spawnRunway(role: 'api' | 'worker', env: Record<string, string>, options: { entry?: string } = {}): Promise<RunwayProcess> {
  // `entry`: a compiled dist/main.js; otherwise the sources through tsx.
  const args = options.entry ? [options.entry, role] : ['--import', 'tsx', 'src/main.ts', role];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const ready = role === 'api' ? /"msg":"API listening"/ : /"msg":"metrics and health listener started"/;
  const deadline = Date.now() + 60_000;
  while (!ready.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`runway ${role} did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const line = output.split('\n').find((candidate) => ready.test(candidate)) ?? '';
  const url = /"url":"([^"]+)"/.exec(line)?.[1] ?? '';
  return {
    role,
    child,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
