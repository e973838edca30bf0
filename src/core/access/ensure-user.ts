import { nanoid } from 'nanoid';
import { badRequest } from '../errors.js';
import type { Database } from '../../db/prisma.js';
import type { Role } from '../../generated/prisma/enums.js';

export interface ChatIdentity {
  telegramId?: string;
  discordId?: string;
}

/**
 * Finds the user with a chat id, creating it if needed (the operator CLI
 * bootstraps a fresh install this way). `role` upgrades, never downgrades.
 */
export async function ensureChatUser(db: Database, identity: ChatIdentity, options: { role?: Role } = {}) {
  const { telegramId, discordId } = identity;
  if (!telegramId && !discordId) throw badRequest('A Telegram or Discord id is required');
  for (const id of [telegramId, discordId]) {
    if (id !== undefined && !/^\d{1,32}$/.test(id)) throw badRequest('Chat ids are numeric', { details: { id } });
  }
  const where = telegramId ? { telegramId } : { discordId: discordId as string };
  const existing = await db.user.findUnique({ where });
  if (!existing) {
    return db.user.create({ data: { id: nanoid(), telegramId, discordId, role: options.role ?? 'USER', allowed: true } });
  }
  if (options.role === 'ADMIN' && existing.role !== 'ADMIN') {
    return db.user.update({ where: { id: existing.id }, data: { role: 'ADMIN' } });
  }
  return existing;
}
