import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { DiscordGateway } from './discord-gateway.js';
import { LoopbackHttpServer, readBody, waitForProbe } from './loopback-http-server.js';

/**
 * A fake Discord on loopback: the REST API (under `/api/v10`) and the
 * WebSocket gateway the real discord.js client uses (`rest.api` points here;
 * discord.js learns the gateway URL from `GET /gateway/bot`). It records
 * every REST call, dispatches slash-command and autocomplete interactions,
 * answers 429 with `retry_after` and X-RateLimit-* headers, and goes down on
 * demand.
 */
export interface FakeDiscordUser {
  id: string;
  username: string;
}

export interface RecordedDiscordCall {
  method: string;
  /** Path after `/api/v10`. */
  path: string;
  body: Record<string, unknown> | undefined;
  status: number;
  at: number;
}

export interface FakeDiscordMessage {
  id: string;
  channel_id: string;
  content: string;
  history: string[];
  flags: number;
}

export interface FakeInteraction {
  id: string;
  token: string;
  callbacks: Record<string, unknown>[];
  /** The original response once sent or edited (content). */
  original?: FakeDiscordMessage;
  followups: FakeDiscordMessage[];
}

interface RateLimitRule {
  method?: string;
  pathIncludes?: string;
  remaining: number;
  retryAfter: number;
}

const DISCORD_EPOCH = 1420070400000n;
const MAX_CONTENT = 2000;
let sequence = 0n;

export function snowflake(): string {
  sequence = (sequence + 1n) % 4096n;
  return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | sequence);
}

export class FakeDiscordServer {
  readonly calls: RecordedDiscordCall[] = [];
  readonly messages: FakeDiscordMessage[] = [];
  readonly interactions = new Map<string, FakeInteraction>();
  readonly applicationId = snowflake();
  readonly botUser = { id: this.applicationId, username: 'runway', discriminator: '0', global_name: 'Runway', bot: true, avatar: null };
  commands: Record<string, unknown>[] = [];
  readonly dmChannels = new Map<string, string>();
  readonly gateway: DiscordGateway;
  private readonly http = new LoopbackHttpServer(
    (req, res) => void this.handle(req, res),
    (server) => {
      const wss = new WebSocketServer({ noServer: true });
      server.on('upgrade', (req, socket, head) => {
        if (!req.url?.startsWith('/gateway')) return socket.destroy();
        wss.handleUpgrade(req, socket, head, (ws: WebSocket) => this.gateway.accept(ws));
      });
      this.wss = wss;
    },
  );
  private wss: WebSocketServer | undefined;
  private rateLimits: RateLimitRule[] = [];
  private listeners = new Set<() => void>();

  constructor(readonly token = `fake.${randomBytes(8).toString('hex')}`) {
    this.gateway = new DiscordGateway({
      token,
      user: this.botUser,
      applicationId: this.applicationId,
      url: () => this.gatewayUrl,
    });
  }

  /** Value for discord.js `rest.api` (config DISCORD_API_BASE). */
  get apiBase(): string {
    return `http://127.0.0.1:${this.http.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.http.port}/gateway`;
  }

  async start(): Promise<string> {
    await this.http.start();
    return this.apiBase;
  }

  /** Simulates an outage: the gateway and REST connections drop and new ones are refused until `start()`. */
  async goDown(): Promise<void> {
    await this.http.goDown(() => {
      this.gateway.dropAll();
      this.wss?.close();
    });
  }

  async stop(): Promise<void> {
    await this.goDown();
  }

  /** The next `times` REST calls matching answer 429 with `retry_after` (seconds). */
  rateLimit(rule: { method?: string; pathIncludes?: string; times?: number; retryAfter?: number }): void {
    this.rateLimits.push({ ...rule, remaining: rule.times ?? 1, retryAfter: rule.retryAfter ?? 1 });
  }

  /**
   * Dispatches a slash command (or its autocomplete, `type: 4`) as
   * INTERACTION_CREATE; `guildId` makes it a guild channel, else a DM.
   */
  dispatchCommand(input: {
    user: FakeDiscordUser;
    channelId: string;
    guildId?: string;
    name: string;
    options?: { name: string; type: number; value: unknown; focused?: boolean }[];
    autocomplete?: boolean;
  }): FakeInteraction {
    const interaction: FakeInteraction = { id: snowflake(), token: `itok-${randomBytes(12).toString('hex')}`, callbacks: [], followups: [] };
    this.interactions.set(interaction.id, interaction);
    const user = { id: input.user.id, username: input.user.username, discriminator: '0', global_name: input.user.username, avatar: null };
    const command = this.commands.find((c) => c.name === input.name);
    const payload: Record<string, unknown> = {
      id: interaction.id,
      application_id: this.applicationId,
      type: input.autocomplete ? 4 : 2,
      token: interaction.token,
      version: 1,
      locale: 'en-US',
      app_permissions: '0',
      entitlements: [],
      authorizing_integration_owners: { 0: input.guildId ?? input.user.id },
      context: input.guildId ? 0 : 1,
      channel_id: input.channelId,
      channel: { id: input.channelId, type: input.guildId ? 0 : 1 },
      data: { id: (command?.id as string) ?? snowflake(), name: input.name, type: 1, options: input.options ?? [] },
    };
    if (input.guildId) {
      payload.guild_id = input.guildId;
      payload.guild_locale = 'en-US';
      payload.member = { user, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0, permissions: '0' };
    } else {
      payload.user = user;
    }
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return interaction;
  }

  callsOf(method: string, pathIncludes: string): RecordedDiscordCall[] {
    return this.calls.filter((call) => call.method === method && call.path.includes(pathIncludes));
  }

  messagesIn(channelId: string): FakeDiscordMessage[] {
    return this.messages.filter((message) => message.channel_id === channelId);
  }

  /** The text a user sees as the answer to an interaction (edited original or immediate reply). */
  replyText(interaction: FakeInteraction): string | undefined {
    if (interaction.original) return interaction.original.content;
    const reply = interaction.callbacks.find((callback) => callback.type === 4);
    return (reply?.data as { content?: string } | undefined)?.content;
  }

  async waitForReply(interaction: FakeInteraction, timeoutMs = 10_000): Promise<string> {
    return this.waitFor(() => this.replyText(interaction), timeoutMs);
  }

  /** Polls a condition each time a REST call or gateway event happens. */
  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    return waitForProbe(probe, [this.listeners, this.gateway.listeners], timeoutMs, 'fake Discord');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname.replace(/^\/api(\/v\d+)?/, ''));
    const body = await readJson(req);
    const record: RecordedDiscordCall = { method: req.method ?? 'GET', path, body, status: 200, at: Date.now() };
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      this.calls.push(record);
      if (!res.destroyed) {
        if (status === 204) res.writeHead(204, headers).end();
        else res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
      }
      for (const listener of [...this.listeners]) listener();
    };
    const limited = this.takeRateLimit(record.method, path);
    if (limited) {
      return reply(429, { message: 'You are being rate limited.', retry_after: limited, global: false, code: 0 }, {
        'retry-after': String(limited),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(limited),
        'x-ratelimit-bucket': 'fake-bucket',
        'x-ratelimit-scope': 'user',
      });
    }
    const needsAuth = !path.startsWith('/interactions/') && !path.startsWith('/webhooks/');
    if (needsAuth && req.headers.authorization !== `Bot ${this.token}`) {
      return reply(401, { message: '401: Unauthorized', code: 0 });
    }
    try {
      const [status, payload] = this.route(record.method, path, body ?? {}, url);
      reply(status, payload, { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1', 'x-ratelimit-bucket': 'fake-ok' });
    } catch (error) {
      const { status, payload } = error as { status: number; payload: unknown };
      reply(status ?? 500, payload ?? { message: String(error), code: 0 });
    }
  }

  private takeRateLimit(method: string, path: string): number | undefined {
    const rule = this.rateLimits.find(
      (r) => r.remaining > 0 && (!r.method || r.method === method) && (!r.pathIncludes || path.includes(r.pathIncludes)),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    return rule.retryAfter;
  }

  private route(method: string, path: string, body: Record<string, unknown>, url: URL): [number, unknown] {
    const parts = path.split('/').filter(Boolean);
    const key = `${method} /${parts.map((p, i) => (isParam(parts, i) ? ':' : p)).join('/')}`;
    switch (key) {
      case 'GET /gateway/bot':
        return [200, { url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } }];
      case 'GET /gateway':
        return [200, { url: this.gatewayUrl }];
      case 'GET /users/@me':
        return [200, this.botUser];
      case 'PUT /applications/:/commands':
        this.commands = (body as unknown as Record<string, unknown>[]).map((c) => ({ ...c, id: snowflake(), application_id: this.applicationId, version: snowflake(), type: c.type ?? 1 }));
        return [200, this.commands];
      case 'GET /applications/:/commands':
        return [200, this.commands];
      case 'POST /users/@me/channels':
        return [200, this.dmChannel(String(body.recipient_id))];
      case 'POST /channels/:/messages':
        return [200, this.toApiMessage(this.createMessage(parts[1]!, body))];
      case 'PATCH /channels/:/messages/:':
        return [200, this.toApiMessage(this.editMessage(parts[1]!, parts[3]!, body))];
      case 'POST /interactions/:/:/callback':
        return this.interactionCallback(parts[1]!, parts[2]!, body, url);
      case 'POST /webhooks/:/:':
        return [200, this.toApiMessage(this.followup(parts[2]!, body))];
      case 'PATCH /webhooks/:/:/messages/@original':
      case 'PATCH /webhooks/:/:/messages/:':
        return [200, this.toApiMessage(this.editOriginal(parts[2]!, body))];
      default:
        throw { status: 404, payload: { message: '404: Not Found', code: 0 } };
    }
  }

  private dmChannel(recipientId: string): unknown {
    let id = this.dmChannels.get(recipientId);
    if (!id) {
      id = snowflake();
      this.dmChannels.set(recipientId, id);
    }
    return { id, type: 1, last_message_id: null, flags: 0, recipients: [{ id: recipientId, username: `user${recipientId}`, discriminator: '0', avatar: null, global_name: null }] };
  }

  private createMessage(channelId: string, body: Record<string, unknown>): FakeDiscordMessage {
    const content = checkContent(body);
    const message: FakeDiscordMessage = { id: snowflake(), channel_id: channelId, content, history: [content], flags: Number(body.flags ?? 0) };
    this.messages.push(message);
    return message;
  }

  private editMessage(channelId: string, messageId: string, body: Record<string, unknown>): FakeDiscordMessage {
    const message = this.messages.find((m) => m.channel_id === channelId && m.id === messageId);
    if (!message) throw { status: 404, payload: { message: 'Unknown Message', code: 10008 } };
    message.content = checkContent(body);
    message.history.push(message.content);
    return message;
  }

  private interactionCallback(id: string, token: string, body: Record<string, unknown>, url: URL): [number, unknown] {
    const interaction = this.interactions.get(id);
    if (!interaction || interaction.token !== token) throw { status: 404, payload: { message: 'Unknown interaction', code: 10062 } };
    if (interaction.callbacks.length > 0) throw { status: 400, payload: { message: 'Interaction has already been acknowledged.', code: 40060 } };
    if (body.type === 4) checkContent((body.data ?? {}) as Record<string, unknown>);
    interaction.callbacks.push(body);
    if (url.searchParams.get('with_response') !== 'true') return [204, undefined];
    return [200, { interaction: { id, type: 2 }, resource: { type: body.type } }];
  }

  private interactionByToken(token: string): FakeInteraction {
    const interaction = [...this.interactions.values()].find((i) => i.token === token);
    if (!interaction) throw { status: 404, payload: { message: 'Unknown Webhook', code: 10015 } };
    return interaction;
  }

  private followup(token: string, body: Record<string, unknown>): FakeDiscordMessage {
    const interaction = this.interactionByToken(token);
    const content = checkContent(body);
    const message = { id: snowflake(), channel_id: 'interaction', content, history: [content], flags: Number(body.flags ?? 0) };
    interaction.followups.push(message);
    return message;
  }

  private editOriginal(token: string, body: Record<string, unknown>): FakeDiscordMessage {
    const interaction = this.interactionByToken(token);
    const content = checkContent(body);
    const flags = Number((interaction.callbacks[0]?.data as { flags?: number } | undefined)?.flags ?? 0);
    interaction.original ??= { id: snowflake(), channel_id: 'interaction', content, history: [], flags };
    interaction.original.content = content;
    interaction.original.history.push(content);
    return interaction.original;
  }

  private toApiMessage(message: FakeDiscordMessage): unknown {
    return {
      id: message.id,
      type: 0,
      channel_id: message.channel_id === 'interaction' ? snowflake() : message.channel_id,
      author: this.botUser,
      content: message.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: message.history.length > 1 ? new Date().toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      flags: message.flags,
    };
  }
}

/** Whether path segment i is an id (snowflake, token or '@original'). */
function isParam(parts: string[], i: number): boolean {
  const part = parts[i]!;
  if (part === '@original') return false;
  return /^\d+$/.test(part) || (parts[i - 2] === 'interactions' && i === 2) || (parts[0] === 'webhooks' && i === 2);
}

function checkContent(body: Record<string, unknown>): string {
  const content = typeof body.content === 'string' ? body.content : '';
  if (content.length > MAX_CONTENT) {
    throw {
      status: 400,
      payload: {
        message: 'Invalid Form Body',
        code: 50035,
        errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_CONTENT} or fewer in length.` }] } },
      },
    };
  }
  return content;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const text = await readBody(req);
  if (text === undefined || !(req.headers['content-type'] ?? '').includes('json')) return undefined;
  return JSON.parse(text) as Record<string, unknown>;
}
