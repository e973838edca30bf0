/**
 * Pushes images Runway built from Git to the registry every swarm node pulls
 * from (BUILD_REGISTRY), so a task scheduled on any node finds its image
 * (issue 7, multi-node swarms). Failures arrive inside the push's 200 stream
 * as `{error}` events (STYLE.md, dockerode) and are thrown here.
 */
import type Docker from 'dockerode';

export interface BuildRegistry {
  /** `host[:port][/path]`, e.g. `registry.example.com:5000/runway`. */
  registry: string;
  username?: string;
  password?: string;
}

export class RegistryPushError extends Error {
  readonly code = 'REGISTRY_PUSH_FAILED';
  constructor(readonly reference: string, message: string, options?: { cause?: unknown }) {
    super(`pushing ${reference} failed: ${message}`, options);
    this.name = 'RegistryPushError';
  }
}

/** `runway-build/svc:dep` -> `registry.example.com:5000/runway/runway-build/svc:dep`. */
export function registryReference(registry: string, localImage: string): string {
  return `${registry.replace(/\/+$/, '')}/${localImage}`;
}

function splitTag(reference: string): { repo: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  if (colon <= reference.lastIndexOf('/')) return { repo: reference, tag: 'latest' };
  return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/** Tags `localImage` into the registry's namespace and pushes it; resolves to the registry reference. */
export async function pushToRegistry(docker: Docker, localImage: string, target: BuildRegistry, onLog?: (line: string) => void): Promise<string> {
  const reference = registryReference(target.registry, localImage);
  const { repo, tag } = splitTag(reference);
  await docker.getImage(localImage).tag({ repo, tag });
  const serveraddress = target.registry.split('/')[0]!;
  const authconfig = target.username ? { username: target.username, password: target.password ?? '', serveraddress } : undefined;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.getImage(repo).push({ tag, ...(authconfig ? { authconfig } : {}) })) as NodeJS.ReadableStream;
  } catch (error) {
    throw new RegistryPushError(reference, (error as Error).message, { cause: error });
  }
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(new RegistryPushError(reference, error.message, { cause: error })) : resolve()),
      (event: { error?: string; status?: string; id?: string }) => {
        if (event.error) reject(new RegistryPushError(reference, event.error));
        else if (event.status && onLog) onLog(`push: ${event.id ? `${event.id} ` : ''}${event.status}`);
      },
    );
  });
  return reference;
}
