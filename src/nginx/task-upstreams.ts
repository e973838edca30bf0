/**
 * Where the host's Nginx reaches a swarm service without a published port:
 * every task attached to an overlay network also gets an interface on
 * `docker_gwbridge`, which the host can reach (verified on Docker 20.10; the
 * overlay addresses themselves are not routable from the host). Docker turns
 * inter-container traffic off on that bridge (enable_icc=false), so tasks of
 * different environments still cannot reach each other through it.
 *
 * Limits: only tasks on this node have an address here (single edge node),
 * and addresses change when tasks are replaced, so routes are re-rendered
 * when they do (see sync-routes.ts).
 */
import type Docker from 'dockerode';

export interface UpstreamResolver {
  /** Addresses of the running tasks of each named swarm service, reachable from this host. */
  resolve(swarmServiceNames: string[]): Promise<Map<string, string[]>>;
}

export class GwbridgeUpstreamResolver implements UpstreamResolver {
  constructor(private readonly docker: Docker, private readonly networkName = 'docker_gwbridge') {}

  async resolve(names: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>(names.map((name) => [name, []]));
    if (names.length === 0) return result;
    // The engine's name filter matches prefixes; keep exact matches only.
    const services = (await this.docker.listServices({ filters: { name: names } })).filter((service) =>
      result.has(service.Spec?.Name ?? ''),
    );
    if (services.length === 0) return result;
    const nameById = new Map(services.map((service) => [service.ID, service.Spec!.Name!]));
    const [tasks, bridge] = await Promise.all([
      this.docker.listTasks({ filters: { service: [...nameById.keys()], 'desired-state': ['running'] } }),
      this.docker.getNetwork(this.networkName).inspect() as Promise<{ Containers?: Record<string, { IPv4Address?: string }> }>,
    ]);
    const containers = bridge.Containers ?? {};
    for (const task of tasks as { ServiceID?: string; Status?: { State?: string; ContainerStatus?: { ContainerID?: string } } }[]) {
      const name = nameById.get(task.ServiceID ?? '');
      const containerId = task.Status?.ContainerStatus?.ContainerID;
      if (!name || task.Status?.State !== 'running' || !containerId) continue;
      const address = containers[containerId]?.IPv4Address?.split('/')[0];
      if (address) result.get(name)!.push(address);
    }
    for (const addresses of result.values()) addresses.sort();
    return result;
  }
}
