import { join } from 'node:path';
import type Docker from 'dockerode';
import type { Config } from '../config/config.js';
import type { GitImageBuilder } from '../core/deployments/deployment-runner.js';
import type { SwarmGateway } from '../docker/swarm-gateway.js';
import { pushToRegistry } from '../docker/registry-push.js';
import { buildFromGit, removeStaleBuildDirs } from '../git/git-build.js';

/** Where Git builds clone to: one fresh directory per build, removed afterwards. */
export const buildWorkDir = (config: Pick<Config, 'RUNWAY_STATE_DIR'>): string => join(config.RUNWAY_STATE_DIR, 'builds');

/**
 * Adapts src/git's clone-and-build to the runner's GitImageBuilder port. With
 * BUILD_REGISTRY (and a Docker client) the built image is pushed there and the
 * deployment runs the registry reference, so any swarm node can pull it.
 */
export function createGitImageBuilder(gateway: SwarmGateway, config: Config, docker?: Docker): GitImageBuilder {
  return async (input) => {
    const built = await buildFromGit(
      { gateway, allowFileUrls: config.ALLOW_FILE_GIT_URLS },
      { ...input, workDir: buildWorkDir(config) },
    );
    if (!config.BUILD_REGISTRY || !docker) return built;
    const registry = { registry: config.BUILD_REGISTRY, username: config.BUILD_REGISTRY_USERNAME, password: config.BUILD_REGISTRY_PASSWORD };
    const image = await pushToRegistry(docker, built.image, registry, input.onLog);
    return { image, log: [...built.log, `pushed ${image}`] };
  };
}

/** Build directories a killed worker left behind (older than an hour: no live build is that old by default). */
export function createBuildLeftoverCleaner(config: Config): () => Promise<number> {
  return () => removeStaleBuildDirs(buildWorkDir(config), 60 * 60_000);
}
