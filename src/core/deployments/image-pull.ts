import type { SwarmGateway } from '../../docker/swarm-gateway.js';
import { DeploymentFailure } from './deployment-failure.js';

/** `missing`: pull only absent images; `always`: pull every time; `never`: local images only. */
export type PullPolicy = 'missing' | 'always' | 'never';

/**
 * Makes the image available by the pull policy. A failed pull of an image
 * that exists locally goes on (returns a note for the transition); one that
 * exists nowhere ends the deployment with a reason a person understands.
 */
export async function ensureImage(gateway: SwarmGateway, reference: string, policy: PullPolicy): Promise<string | undefined> {
  if (policy !== 'always' && (await gateway.imageExists(reference))) return undefined;
  if (policy === 'never') {
    throw new DeploymentFailure(`Image ${reference} does not exist on this host and the pull policy is "never"`);
  }
  try {
    await gateway.pullImage(reference);
    return undefined;
  } catch (error) {
    const why = (error as Error).message;
    if (policy === 'always' && (await gateway.imageExists(reference))) {
      return `pull of ${reference} failed (${why}); using the local image`;
    }
    throw new DeploymentFailure(
      `Image ${reference} could not be pulled and does not exist on this host: ${why}. Check the name and tag, and that the registry is reachable.`,
      { cause: error },
    );
  }
}
