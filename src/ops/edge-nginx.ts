#!/usr/bin/env node
/**
 * NGINX_BIN for a Runway worker whose edge Nginx runs in another container
 * (docker-compose.prod.yml). Runway calls `NGINX_BIN ...NGINX_ARGS -t` and
 * `... -s reload`:
 *
 * - `-t` (and anything else) runs this container's own nginx with the same
 *   arguments: the image ships the edge's nginx.conf and mounts the same
 *   sites/certs/webroot volumes at the same paths, so the check sees exactly
 *   what the edge will load.
 * - `-s reload` cannot signal a master in another PID namespace, so it sends
 *   SIGHUP (Nginx's reload signal) through the Docker Engine API to every
 *   running container labelled `io.runway.edge=<RUNWAY_EDGE_LABEL>`; exit 1
 *   when none is found or a signal fails, so Runway reports the failure.
 */
import { spawnSync } from 'node:child_process';
import type Docker from 'dockerode';
import { createDockerClient } from '../docker/docker-client.js';

export const EDGE_LABEL = 'io.runway.edge';

/** Sends SIGHUP to every running edge container; returns their names. */
export async function reloadEdgeContainers(docker: Docker, labelValue: string): Promise<string[]> {
  const containers = await docker.listContainers({ filters: { label: [`${EDGE_LABEL}=${labelValue}`], status: ['running'] } });
  if (containers.length === 0) throw new Error(`no running container labelled ${EDGE_LABEL}=${labelValue}`);
  await Promise.all(containers.map((container) => docker.getContainer(container.Id).kill({ signal: 'SIGHUP' })));
  return containers.map((container) => container.Names[0]?.replace(/^\//, '') ?? container.Id);
}

function isReload(args: string[]): boolean {
  const index = args.indexOf('-s');
  return index >= 0 && args[index + 1] === 'reload';
}

async function main(args: string[]): Promise<number> {
  if (!isReload(args)) {
    // stdout goes to /dev/null: the config logs access to /dev/stdout, and
    // nginx -t opens that path, which fails (ENXIO) when stdout is the socket
    // pair Node gives a child process. Nginx reports everything on stderr.
    const result = spawnSync(process.env.RUNWAY_EDGE_NGINX_BIN ?? 'nginx', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.error) process.stderr.write(`${result.error.message}\n`);
    return result.status ?? 1;
  }
  const docker = createDockerClient({
    dockerHost: process.env.DOCKER_HOST || undefined,
    tlsVerify: ['1', 'true'].includes(process.env.DOCKER_TLS_VERIFY ?? ''),
    certPath: process.env.DOCKER_CERT_PATH || undefined,
  });
  const names = await reloadEdgeContainers(docker, process.env.RUNWAY_EDGE_LABEL ?? 'true');
  process.stdout.write(`reloaded ${names.join(', ')}\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`edge reload failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}
