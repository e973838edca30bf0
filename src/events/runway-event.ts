import type { DeploymentStatus } from '../generated/prisma/enums.js';

/**
 * Everything the chat notifier (and metrics) hears about. Each event names the
 * owner so the notifier can find the owner's chats without another lookup.
 */
export type RunwayEvent =
  | {
      type: 'deployment.state';
      deploymentId: string;
      jobId: string;
      ownerId: string;
      environmentId: string;
      environmentName: string;
      serviceName: string;
      /** image:tag, or repoUrl@branch/commit for Git deployments. */
      source: string;
      fromState: DeploymentStatus | null;
      state: DeploymentStatus;
      at: string;
      reason?: string;
    }
  | {
      type: 'domain.active' | 'domain.failed' | 'certificate.renewed' | 'certificate.expiring' | 'certificate.failed';
      domainId: string;
      hostname: string;
      ownerId: string;
      environmentId: string;
      at: string;
      reason?: string;
      expiresAt?: string;
    };

export type RunwayEventType = RunwayEvent['type'];

/** A delivered event with its stream id, for acknowledging. */
export interface DeliveredEvent {
  id: string;
  event: RunwayEvent;
}

export interface EventPublisher {
  publish(event: RunwayEvent): Promise<void>;
}
