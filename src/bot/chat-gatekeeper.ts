import { nanoid } from 'nanoid';
import { DEFAULT_SCOPES } from '../core/access/access-dependencies.js';
import { ensureChatUser } from '../core/access/ensure-user.js';
import type { Principal } from '../core/principal.js';
import type { Database } from '../db/prisma.js';
import type { ChatPlatform, Role } from '../generated/prisma/enums.js';

/** Who wrote, as the platform knows them. */
export interface ChatIdentity {
  platform: ChatPlatform;
  /** Numeric user id on that platform. */
  userId: string;
}

/** Where they wrote. */
export interface ChatPlace {
  platform: ChatPlatform;
  chatId: string;
  isPrivate: boolean;
}

/** An allowed chat user, resolved to a Runway user. */
export interface ChatCaller {
  principal: Principal;
  userId: string;
  role: Role;
  isAdmin: boolean;
  identity: ChatIdentity;
}

/** Allowlists from configuration (TELEGRAM_ALLOWED_USERS / TELEGRAM_ADMINS, DISCORD_...). */
export interface ChatAllowlist {
  allowed: readonly string[];
  admins: readonly string[];
}

/**
 * Decides who may talk to the bots (SPEC section 7): ids in the configured
 * allowlists or admins, plus users an admin allowed from chat
 * (User.allowed). An allowed person becomes a Runway user on first contact,
 * and the chat they write in becomes a notification target. Nobody else is
 * written to the database.
 */
export class ChatGatekeeper {
  constructor(private readonly db: Database, private readonly allowlists: Record<ChatPlatform, ChatAllowlist>) {}

  async admit(identity: ChatIdentity, place: ChatPlace): Promise<ChatCaller | undefined> {
    const list = this.allowlists[identity.platform];
    const configAdmin = list.admins.includes(identity.userId);
    const configAllowed = configAdmin || list.allowed.includes(identity.userId);
    const key = identity.platform === 'TELEGRAM' ? { telegramId: identity.userId } : { discordId: identity.userId };
    const existing = await this.db.user.findUnique({ where: key as { telegramId: string } });
    if (!configAllowed && !existing?.allowed) return undefined;
    const user = existing && !(configAdmin && existing.role !== 'ADMIN')
      ? existing
      : await ensureChatUser(this.db, key, { role: configAdmin ? 'ADMIN' : undefined });
    await this.db.chatTarget.upsert({
      where: { userId_platform_chatId: { userId: user.id, platform: place.platform, chatId: place.chatId } },
      create: { id: nanoid(), userId: user.id, platform: place.platform, chatId: place.chatId },
      update: {},
    });
    return {
      principal: { userId: user.id, role: user.role, scopes: [...DEFAULT_SCOPES] },
      userId: user.id,
      role: user.role,
      isAdmin: user.role === 'ADMIN',
      identity,
    };
  }

  /** `/notify on|off` for one chat of the caller. */
  async setNotifications(caller: ChatCaller, place: ChatPlace, enabled: boolean): Promise<void> {
    await this.db.chatTarget.update({
      where: { userId_platform_chatId: { userId: caller.userId, platform: place.platform, chatId: place.chatId } },
      data: { enabled },
    });
  }
}
