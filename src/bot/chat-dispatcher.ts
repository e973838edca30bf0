import { customAlphabet } from 'nanoid';
import { isAppError } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import type { ChatCommandHandler } from './chat-command-handler.js';
import type { ChatGatekeeper, ChatIdentity, ChatPlace } from './chat-gatekeeper.js';
import { bold, code, line, message, textMessage, type Block, type ChatMessage } from './chat-text.js';
import { findCommand } from './command-catalog.js';
import { parseCommand, tokenize } from './command-parser.js';

export type DispatchResult =
  /** Not allowed: answer this short refusal and nothing else. */
  | { kind: 'refused'; message: ChatMessage }
  /** A secret asked for outside a private chat, on a platform that cannot DM first. */
  | { kind: 'private_only'; message: ChatMessage }
  /** `secret`: send it to a private chat / DM only. */
  | { kind: 'reply'; message: ChatMessage; secret: boolean };

export const REFUSAL = textMessage('Sorry, you are not allowed to use this bot.');

const referenceId = customAlphabet('23456789ABCDEFGHJKLMNPQRSTUVWXYZ', 8);

/**
 * What both front doors run for every command: admit the caller, keep
 * secrets out of groups, parse, execute, and turn any error into a short
 * reply (with a reference id that is in the log next to the details).
 */
export class ChatDispatcher {
  constructor(
    private readonly gatekeeper: ChatGatekeeper,
    private readonly handler: ChatCommandHandler,
    private readonly logger: Logger,
  ) {}

  /** `args`: Discord's options as a list, or Telegram's raw argument text (split here, after admission). */
  async dispatch(identity: ChatIdentity, place: ChatPlace, name: string, args: string[] | string, options: { canDirectMessage: boolean }): Promise<DispatchResult> {
    try {
      const caller = await this.gatekeeper.admit(identity, place);
      if (!caller) {
        this.logger.info({ platform: identity.platform, userId: identity.userId, command: name }, 'refused a user who is not allowed');
        return { kind: 'refused', message: REFUSAL };
      }
      const secret = findCommand(name)?.secret === true;
      if (secret && !place.isPrivate && !options.canDirectMessage) {
        return { kind: 'private_only', message: textMessage('🔒 This answer carries a secret. Open a private chat with me and send the command there.') };
      }
      const reply = await this.handler.execute(caller, place, parseCommand(name, typeof args === 'string' ? tokenize(args) : args));
      return { kind: 'reply', message: reply, secret };
    } catch (error) {
      return { kind: 'reply', message: this.errorReply(error, identity, name), secret: false };
    }
  }

  /** Autocomplete: the caller's environment names; nothing for strangers. */
  async suggestEnvironments(identity: ChatIdentity, place: ChatPlace, prefix: string): Promise<string[]> {
    try {
      const caller = await this.gatekeeper.admit(identity, place);
      return caller ? await this.handler.environmentNames(caller, prefix) : [];
    } catch (error) {
      this.logger.warn({ err: error }, 'environment autocomplete failed');
      return [];
    }
  }

  /** AppErrors speak for themselves; anything else gets a reference id, details go to the log only. */
  errorReply(error: unknown, identity: ChatIdentity, command: string): ChatMessage {
    if (isAppError(error) && error.status < 500) {
      const blocks: Block[] = [line('⚠️ ', error.message)];
      const issues = (error.details.issues as { path: string; message: string }[] | undefined) ?? [];
      for (const issue of issues.slice(0, 5)) blocks.push(line('• ', code(issue.path), ` ${issue.message}`));
      for (const suggestion of error.suggestions.slice(0, 3)) blocks.push(line('→ ', suggestion));
      return message(...blocks);
    }
    const ref = referenceId();
    this.logger.error({ err: error, ref, platform: identity.platform, command }, 'chat command failed');
    const what = isAppError(error) && error.retryable ? `${error.message}; try again shortly` : 'Something went wrong';
    return message(line(`⚠️ ${what}. Reference `, bold(ref), '.'));
  }
}
