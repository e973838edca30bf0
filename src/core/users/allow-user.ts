import type { Database } from '../../db/prisma.js';
import type { Logger } from '../../logging/logger.js';
import { ensureChatUser, type ChatIdentity } from '../access/ensure-user.js';
import { AuditLog } from '../audit-log.js';
import { conflict } from '../errors.js';
import type { Principal } from '../principal.js';

export interface AllowedUser {
  id: string;
  telegramId: string | null;
  discordId: string | null;
  role: 'USER' | 'ADMIN';
  allowed: boolean;
  created: boolean;
}

/**
 * Lets a chat user use Runway (in addition to the allowlists in
 * configuration), creating the user if needed; `admin` upgrades the role and
 * never downgrades it. Audited. Used by the operator CLI and by admins in chat.
 */
export async function allowUser(
  deps: { db: Database; logger: Logger },
  input: ChatIdentity & { admin?: boolean; actor?: Principal },
): Promise<AllowedUser> {
  const lookups: { telegramId?: string; discordId?: string }[] = [];
  if (input.telegramId) lookups.push({ telegramId: input.telegramId });
  if (input.discordId) lookups.push({ discordId: input.discordId });
  const matches = lookups.length ? await deps.db.user.findMany({ where: { OR: lookups }, select: { id: true } }) : [];
  if (matches.length > 1) {
    throw conflict('The Telegram id and the Discord id belong to two different users', {
      details: { userIds: matches.map((match) => match.id) },
      suggestions: ['Allow each id on its own'],
    });
  }
  const existing = matches[0];
  let user = await ensureChatUser(deps.db, { telegramId: input.telegramId, discordId: input.discordId }, { role: input.admin ? 'ADMIN' : undefined });
  // A user found by one id gets the other one linked when it is free.
  const link: { allowed?: boolean; telegramId?: string; discordId?: string } = {};
  if (!user.allowed) link.allowed = true;
  if (input.telegramId && !user.telegramId) link.telegramId = input.telegramId;
  if (input.discordId && !user.discordId) link.discordId = input.discordId;
  if (Object.keys(link).length) user = await deps.db.user.update({ where: { id: user.id }, data: link });
  await new AuditLog(deps.db, deps.logger).record({
    action: 'user.allowed',
    outcome: 'success',
    actor: input.actor,
    targetType: 'user',
    targetId: user.id,
    details: { admin: user.role === 'ADMIN', created: !existing },
  });
  return {
    id: user.id,
    telegramId: user.telegramId,
    discordId: user.discordId,
    role: user.role,
    allowed: user.allowed,
    created: !existing,
  };
}
