import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackHttpServer, readBody, waitForProbe } from './loopback-http-server.js';
import { checkTelegramHtml } from './telegram-html-check.js';

/**
 * A local Telegram Bot API speaking the real HTTP protocol
 * (`POST /bot<token>/<method>`, JSON, form or multipart bodies, `{ok, result}`
 * answers), so tests drive the real telegraf library through `apiRoot`.
 * It records every call, lets tests inject updates, answers 429 with
 * `retry_after` or goes down on demand.
 */
export interface FakeTelegramUser {
  id: number;
  first_name: string;
  username?: string;
  is_bot?: boolean;
}

export interface FakeTelegramChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
}

export interface RecordedTelegramCall {
  method: string;
  token: string;
  params: Record<string, unknown>;
  at: number;
  /** HTTP status answered. */
  status: number;
}

export interface FakeTelegramMessage {
  message_id: number;
  chat_id: number;
  text: string;
  parse_mode?: string;
  /** Every text the message had, oldest first (sent, then each edit). */
  history: string[];
  disable_preview: boolean;
}

interface RateLimitRule {
  method?: string;
  chatId?: number;
  remaining: number;
  retryAfter: number;
}

const MAX_TEXT = 4096;

export class FakeTelegramBotApiServer {
  readonly calls: RecordedTelegramCall[] = [];
  readonly messages: FakeTelegramMessage[] = [];
  readonly bot: FakeTelegramUser = { id: 700_000_001, first_name: 'Runway', username: 'runway_test_bot', is_bot: true };
  commands: unknown[] = [];
  webhook: { url: string; secret_token?: string } | undefined;
  private updates: Record<string, unknown>[] = [];
  private nextUpdateId = 1;
  private nextMessageId = 1;
  private waiters = new Set<() => void>();
  private rateLimits: RateLimitRule[] = [];
  private readonly http = new LoopbackHttpServer((req, res) => void this.handle(req, res));
  private callListeners = new Set<() => void>();
  private activePoll: (() => void) | undefined;
  /** getUpdates calls that overlapped another one (real Telegram answers the older 409 Conflict). */
  pollConflicts = 0;

  /** Tokens the fake accepts; any `<digits>:<chars>` token when empty. */
  constructor(private readonly validTokens: string[] = []) {}

  get apiRoot(): string {
    return `http://127.0.0.1:${this.http.port}`;
  }

  async start(): Promise<string> {
    await this.http.start();
    return this.apiRoot;
  }

  /** Simulates an outage: open connections are cut and new ones refused until `start()`. */
  async goDown(): Promise<void> {
    await this.http.goDown();
  }

  async stop(): Promise<void> {
    for (const wake of this.waiters) wake();
    await this.goDown();
  }

  /** The next `times` calls matching answer 429 with `retry_after`. */
  rateLimit(rule: { method?: string; chatId?: number; times?: number; retryAfter?: number }): void {
    this.rateLimits.push({ method: rule.method, chatId: rule.chatId, remaining: rule.times ?? 1, retryAfter: rule.retryAfter ?? 1 });
  }

  /** Queues a text message from a user, with a bot_command entity when it starts with '/'. */
  sendText(from: FakeTelegramUser, chat: FakeTelegramChat, text: string): number {
    const command = /^\/\S+/.exec(text);
    const message: Record<string, unknown> = {
      message_id: this.nextMessageId++,
      from: { is_bot: false, ...from },
      chat: chat.type === 'private' ? { ...chat, first_name: from.first_name, username: from.username } : chat,
      date: Math.floor(Date.now() / 1000),
      text,
    };
    if (command) message.entities = [{ type: 'bot_command', offset: 0, length: command[0].length }];
    return this.pushUpdate({ message });
  }

  pushUpdate(update: Record<string, unknown>): number {
    const id = this.nextUpdateId++;
    this.updates.push({ update_id: id, ...update });
    for (const wake of this.waiters) wake();
    return id;
  }

  /** Calls of one method, optionally to one chat. */
  callsOf(method: string, chatId?: number): RecordedTelegramCall[] {
    return this.calls.filter(
      (call) => call.method === method && (chatId === undefined || Number(call.params.chat_id) === chatId),
    );
  }

  messagesIn(chatId: number): FakeTelegramMessage[] {
    return this.messages.filter((message) => message.chat_id === chatId);
  }

  /** Resolves with the first successful call matching, waiting for it when needed. */
  async waitForCall(
    predicate: (call: RecordedTelegramCall) => boolean,
    timeoutMs = 10_000,
  ): Promise<RecordedTelegramCall> {
    return this.waitFor(() => this.calls.find((call) => call.status === 200 && predicate(call)), timeoutMs);
  }

  /** Polls a condition each time a call is recorded. */
  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    return waitForProbe(probe, [this.callListeners], timeoutMs, 'fake Telegram');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)/.exec(req.url ?? '');
    if (!match) return this.answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = match as unknown as [string, string, string];
    const params = { ...queryParams(req.url ?? ''), ...(await readParams(req)) };
    const record: RecordedTelegramCall = { method, token, params, at: Date.now(), status: 200 };
    const reply = (status: number, body: unknown) => {
      record.status = status;
      this.calls.push(record);
      this.answer(res, status, body);
      for (const listener of [...this.callListeners]) listener();
    };
    if (!this.tokenValid(token)) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const limit = this.takeRateLimit(method, params);
    if (limit) {
      return reply(429, {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${limit}`,
        parameters: { retry_after: limit },
      });
    }
    try {
      const result = await this.run(method, params, res);
      reply(200, { ok: true, result });
    } catch (error) {
      const { code, description } = error as { code: number; description: string };
      reply(code ?? 500, { ok: false, error_code: code ?? 500, description: description ?? String(error) });
    }
  }

  private tokenValid(token: string): boolean {
    return this.validTokens.length > 0 ? this.validTokens.includes(token) : /^\d+:[\w-]+$/.test(token);
  }

  private takeRateLimit(method: string, params: Record<string, unknown>): number | undefined {
    const rule = this.rateLimits.find(
      (r) => r.remaining > 0 && (!r.method || r.method === method) && (r.chatId === undefined || Number(params.chat_id) === r.chatId),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    return rule.retryAfter;
  }

  private async run(method: string, params: Record<string, unknown>, res: ServerResponse): Promise<unknown> {
    switch (method) {
      case 'getMe':
        return { ...this.bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case 'getUpdates':
        return this.getUpdates(params, res);
      case 'deleteWebhook':
        this.webhook = undefined;
        return true;
      case 'setWebhook':
        this.webhook = { url: String(params.url), secret_token: params.secret_token as string | undefined };
        return true;
      case 'getWebhookInfo':
        return { url: this.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0 };
      case 'setMyCommands':
        this.commands = parseMaybeJson(params.commands) as unknown[];
        return true;
      case 'getMyCommands':
        return this.commands;
      case 'sendMessage':
        return this.sendMessage(params);
      case 'editMessageText':
        return this.editMessageText(params);
      case 'answerCallbackQuery':
      case 'sendChatAction':
        return true;
      default:
        throw { code: 404, description: 'Not Found: method not found' };
    }
  }

  private async getUpdates(params: Record<string, unknown>, res: ServerResponse): Promise<unknown[]> {
    if (this.webhook) throw { code: 409, description: "Conflict: can't use getUpdates method while webhook is active" };
    const offset = Number(params.offset ?? 0);
    if (offset > 0) this.updates = this.updates.filter((update) => Number(update.update_id) >= offset);
    const limit = Number(params.limit ?? 100);
    const timeoutMs = Number(params.timeout ?? 0) * 1000;
    let conflicted = false;
    // Two long polls at once means two bot instances (telegraf's offset sync on stop is a short call: not counted).
    if (this.activePoll && timeoutMs > 0) {
      this.pollConflicts += 1;
      this.activePoll();
    }
    if (this.updates.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          if (this.activePoll === conflict) this.activePoll = undefined;
          resolve();
        };
        const conflict = () => {
          conflicted = true;
          wake();
        };
        const timer = setTimeout(wake, timeoutMs);
        this.waiters.add(wake);
        this.activePoll = conflict;
        // The client gave up (aborted on stop, or its process died): this poll is over.
        res.once('close', wake);
      });
    }
    if (conflicted) throw { code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' };
    return this.updates.slice(0, limit);
  }

  private sendMessage(params: Record<string, unknown>): unknown {
    const chatId = Number(params.chat_id);
    const text = String(params.text ?? '');
    this.checkText(text, params.parse_mode as string | undefined);
    const message: FakeTelegramMessage = {
      message_id: this.nextMessageId++,
      chat_id: chatId,
      text,
      parse_mode: params.parse_mode as string | undefined,
      history: [text],
      disable_preview: previewDisabled(params),
    };
    this.messages.push(message);
    return this.messageResult(message);
  }

  private editMessageText(params: Record<string, unknown>): unknown {
    const message = this.messages.find(
      (m) => m.chat_id === Number(params.chat_id) && m.message_id === Number(params.message_id),
    );
    if (!message) throw { code: 400, description: 'Bad Request: message to edit not found' };
    const text = String(params.text ?? '');
    this.checkText(text, params.parse_mode as string | undefined);
    if (text === message.text) {
      throw { code: 400, description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message' };
    }
    message.text = text;
    message.parse_mode = params.parse_mode as string | undefined;
    message.history.push(text);
    return this.messageResult(message);
  }

  private checkText(text: string, parseMode: string | undefined): void {
    if (text.trim() === '') throw { code: 400, description: 'Bad Request: message text is empty' };
    const visible = parseMode === 'HTML' ? checkTelegramHtml(text) : text;
    if ([...visible].length > MAX_TEXT) throw { code: 400, description: 'Bad Request: message is too long' };
  }

  private messageResult(message: FakeTelegramMessage): unknown {
    return {
      message_id: message.message_id,
      from: this.bot,
      chat: { id: message.chat_id, type: message.chat_id > 0 ? 'private' : 'group' },
      date: Math.floor(Date.now() / 1000),
      text: message.text,
    };
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

function previewDisabled(params: Record<string, unknown>): boolean {
  if (params.disable_web_page_preview === true || params.disable_web_page_preview === 'true') return true;
  const options = parseMaybeJson(params.link_preview_options) as { is_disabled?: boolean } | undefined;
  return options?.is_disabled === true;
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function queryParams(url: string): Record<string, unknown> {
  const query = url.split('?')[1];
  return query ? Object.fromEntries(new URLSearchParams(query)) : {};
}

async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  if (!body) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  if (type.includes('multipart/form-data')) return parseMultipart(body, type);
  return {};
}

/** Text fields of a multipart body (what telegraf sends when a call carries files). */
function parseMultipart(body: string, type: string): Record<string, unknown> {
  const boundary = /boundary=([^;]+)/.exec(type)?.[1];
  if (!boundary) return {};
  const fields: Record<string, unknown> = {};
  for (const part of body.split(`--${boundary}`)) {
    const name = /name="([^"]+)"/.exec(part)?.[1];
    const value = part.split('\r\n\r\n')[1];
    if (name && value !== undefined && !/filename=/.test(part)) fields[name] = value.replace(/\r\n$/, '');
  }
  return fields;
}
