import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';

export interface DockerConnectionOptions {
  /** `unix:///var/run/docker.sock` (default) or `tcp://host:2376`. */
  dockerHost?: string;
  /** With tcp: use TLS with ca.pem, cert.pem and key.pem from certPath. */
  tlsVerify?: boolean;
  certPath?: string;
}

/** The one place that turns DOCKER_HOST into a dockerode client. */
export function createDockerClient(options: DockerConnectionOptions = {}): Docker {
  const host = options.dockerHost ?? 'unix:///var/run/docker.sock';
  const url = new URL(host);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });

  const useTls = options.tlsVerify || url.protocol === 'https:';
  const certPath = options.certPath ?? join(process.env.HOME ?? '/root', '.docker');
  return new Docker({
    host: url.hostname,
    port: Number(url.port || (useTls ? 2376 : 2375)),
    protocol: useTls ? 'https' : 'http',
    ...(useTls
      ? {
          ca: readFileSync(join(certPath, 'ca.pem')),
          cert: readFileSync(join(certPath, 'cert.pem')),
          key: readFileSync(join(certPath, 'key.pem')),
        }
      : {}),
  });
}
