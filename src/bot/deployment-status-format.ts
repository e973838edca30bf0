import type { DeploymentStatus } from '../generated/prisma/enums.js';
import { formatDuration } from '../notify/deployment-notice.js';
import { bold, code, line, message, pre, type Block, type ChatMessage } from './chat-text.js';

/** What /status shows: DeploymentManagement.find's result, narrowed to what is read. */
export interface DeploymentStatusView {
  id: string;
  jobId: string;
  status: DeploymentStatus;
  image: string | null;
  tag: string | null;
  repoUrl: string | null;
  errorMessage: string | null;
  createdAt: Date;
  service: { name: string };
  environment: { name: string };
  transitions: { fromStatus: DeploymentStatus | null; toStatus: DeploymentStatus; reason: string | null; at: Date }[];
}

/** The deployment's state and every transition with its time (SPEC section 5 /status). */
export function formatDeploymentStatus(deployment: DeploymentStatusView): ChatMessage {
  const source = deployment.image ? `${deployment.image}${deployment.tag ? `:${deployment.tag}` : ''}` : (deployment.repoUrl ?? '?');
  const start = deployment.createdAt.getTime();
  const blocks: Block[] = [
    line(bold(deployment.status), ' · ', bold(deployment.service.name), ' in ', bold(deployment.environment.name)),
    line('job ', code(deployment.jobId), ' · ', code(source)),
  ];
  if (deployment.errorMessage) blocks.push(line(bold('Reason: '), deployment.errorMessage));
  blocks.push(
    pre(
      deployment.transitions.map(
        (t) => `${t.at.toISOString().slice(11, 23)} +${formatDuration(t.at.getTime() - start).padStart(6)} ${t.toStatus}${t.reason ? ` (${t.reason})` : ''}`,
      ),
    ),
  );
  return message(...blocks);
}
