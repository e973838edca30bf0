import type { SwarmGateway } from '../../docker/swarm-gateway.js';

/**
 * Removes a volume; the gateway already retries while the volume is "in use"
 * by a task that is shutting down. Returns false when it is still there, so
 * the caller keeps its row and the scheduled clean-up tries again later.
 */
export async function removeVolumeWithRetry(gateway: SwarmGateway, name: string): Promise<boolean> {
  try {
    await gateway.removeVolume(name);
    return true;
  } catch {
    return false;
  }
}
