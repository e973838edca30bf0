import { Composer, type Context } from 'telegraf';
import type { ChatDispatcher } from '../chat-dispatcher.js';
import type { ChatPlace } from '../chat-gatekeeper.js';
import type { TelegramApi } from './telegram-api.js';

/** Commands grouped by feature; one telegraf Composer each (STYLE.md: bots as thin adapters). */
export const TELEGRAM_FEATURES: Record<string, string[]> = {
  account: ['start', 'help', 'api_create', 'keys', 'revoke', 'allow'],
  environments: ['envs', 'env_create'],
  deployments: ['deploy', 'status', 'logs', 'rollback'],
  notifications: ['notify'],
};

export interface CommandRunnerDeps {
  dispatcher: ChatDispatcher;
  api: TelegramApi;
}

function placeOf(ctx: Context): ChatPlace {
  const chat = ctx.chat!;
  return { platform: 'TELEGRAM', chatId: String(chat.id), isPrivate: chat.type === 'private' };
}

/** Text after the command entity (which may be `/cmd@botname`). */
function argumentText(ctx: Context): string {
  const message = ctx.message as { text?: string; entities?: { type: string; offset: number; length: number }[] } | undefined;
  const text = message?.text ?? '';
  const entity = message?.entities?.find((each) => each.type === 'bot_command' && each.offset === 0);
  return text.slice(entity ? entity.length : (text.split(/\s/)[0]?.length ?? 0));
}

/** Runs one command through the shared dispatcher and answers in the same chat (HTML, no previews). */
export async function runCommand(deps: CommandRunnerDeps, ctx: Context, name: string): Promise<void> {
  if (!ctx.from || !ctx.chat) return;
  const place = placeOf(ctx);
  const result = await deps.dispatcher.dispatch({ platform: 'TELEGRAM', userId: String(ctx.from.id) }, place, name, argumentText(ctx), {
    canDirectMessage: false,
  });
  // In a private chat, the chat is the person, so a secret reply stays private.
  await deps.api.send(place.chatId, deps.api.render(result.message));
}

export function featureComposer(deps: CommandRunnerDeps, commands: string[]): Composer<Context> {
  const composer = new Composer<Context>();
  for (const name of commands) composer.command(name, (ctx) => runCommand(deps, ctx, name));
  return composer;
}

/**
 * Anything else: unknown commands get the dispatcher's answer (a refusal
 * for strangers, a hint for users); plain text only in private chats, so
 * the bot stays quiet in groups.
 */
export function fallbackComposer(deps: CommandRunnerDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('message', async (ctx) => {
    const text = (ctx.message as { text?: string }).text ?? '';
    const [, command, addressee] = /^\/([A-Za-z0-9_]+)(?:@(\w+))?/.exec(text) ?? [];
    if (addressee && addressee.toLowerCase() !== ctx.botInfo.username.toLowerCase()) return;
    if (command) return runCommand(deps, ctx, command.toLowerCase());
    if (ctx.chat.type === 'private') return runCommand(deps, ctx, 'help');
  });
  return composer;
}
