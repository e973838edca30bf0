import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { GitImageBuilder } from '../core/deployments/deployment-runner.js';
import type { SwarmGateway } from '../docker/swarm-gateway.js';
import { buildFromGit, removeStaleBuildDirs } from '../git/git-build.js';

/** Where Git builds clone to: one fresh directory per build, removed afterwards. */
export const buildWorkDir = (config: Pick<Config, 'RUNWAY_STATE_DIR'>): string => join(config.RUNWAY_STATE_DIR, 'builds');

/** Adapts src/git's clone-and-build to the runner's GitImageBuilder port. */
export function createGitImageBuilder(gateway: SwarmGateway, config: Config): GitImageBuilder {
  return (input) =>
    buildFromGit(
      { gateway, allowFileUrls: config.ALLOW_FILE_GIT_URLS },
      { ...input, workDir: buildWorkDir(config) },
    );
}

/** Build directories a killed worker left behind (older than an hour: no live build is that old by default). */
export function createBuildLeftoverCleaner(config: Config): () => Promise<number> {
  return () => removeStaleBuildDirs(buildWorkDir(config), 60 * 60_000);
}
