import { bold, code, line, message, type ChatMessage } from '../bot/chat-text.js';
import type { RunwayEvent } from '../events/runway-event.js';

type DomainEvent = Exclude<RunwayEvent, { type: 'deployment.state' }>;

const HEADLINE: Record<DomainEvent['type'], string> = {
  'domain.active': '🔒 Domain live',
  'domain.failed': '❌ Domain failed',
  'certificate.renewed': '🔁 Certificate renewed',
  'certificate.expiring': '⚠️ Certificate expiring',
  'certificate.failed': '❌ Certificate failed',
};

/** Domain and certificate events go out as one message each, through the same path as deployments. */
export function domainNotice(event: DomainEvent): ChatMessage {
  const blocks = [line(`${HEADLINE[event.type]}: `, code(`https://${event.hostname}`))];
  if (event.expiresAt) blocks.push(line('expires ', bold(event.expiresAt.slice(0, 10))));
  if (event.reason) blocks.push(line(bold('Reason: '), event.reason));
  return message(...blocks);
}
