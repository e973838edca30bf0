import type { Config } from '../config/config.js';
import type { GitImageBuilder } from '../core/deployments/deployment-runner.js';
import type { SwarmGateway } from '../docker/swarm-gateway.js';

/** Adapts src/git's clone-and-build to the runner's GitImageBuilder port. */
export function createGitImageBuilder(_gateway: SwarmGateway, _config: Config): GitImageBuilder {
  return async () => {
    throw new Error('Git builds are not available in this build of Runway');
  };
}
