/**
 * A deployment that cannot succeed by retrying (bad image, crashing command,
 * failed health check, no convergence). The message is the reason a person
 * reads in chat. Anything else a worker meets is treated as transient.
 */
export class DeploymentFailure extends Error {
  readonly code = 'DEPLOYMENT_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeploymentFailure';
  }
}

/** The deployment was ended by someone else (deleted, watchdog) while a worker held it. */
export class DeploymentAborted extends Error {
  readonly code = 'DEPLOYMENT_ABORTED';
  constructor(readonly deploymentId: string, readonly status: string) {
    super(`deployment ${deploymentId} is ${status}; stopping work on it`);
    this.name = 'DeploymentAborted';
  }
}
