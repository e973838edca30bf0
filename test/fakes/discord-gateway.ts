import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';

/**
 * The gateway half of the fake Discord: HELLO, IDENTIFY -> READY, RESUME ->
 * RESUMED, heartbeats with ACK, and dispatches to every identified session.
 * https://discord.com/developers/docs/events/gateway
 */
export interface DiscordGatewayOptions {
  token: string;
  user: Record<string, unknown>;
  applicationId: string;
  url: () => string;
  heartbeatIntervalMs?: number;
}

interface Session {
  id: string;
  socket: WebSocket;
  seq: number;
}

const Op = { Dispatch: 0, Heartbeat: 1, Identify: 2, Resume: 6, Reconnect: 7, InvalidSession: 9, Hello: 10, HeartbeatAck: 11 } as const;

export class DiscordGateway {
  /** Live, identified sessions. */
  readonly sessions = new Set<Session>();
  /** Session ids ever handed out, so a RESUME after an outage is accepted. */
  private readonly known = new Set<string>();
  readonly listeners = new Set<() => void>();
  identifyCount = 0;
  resumeCount = 0;

  constructor(private readonly options: DiscordGatewayOptions) {}

  accept(socket: WebSocket): void {
    const state: { session?: Session } = {};
    socket.send(JSON.stringify({ op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs ?? 41_250 }, s: null, t: null }));
    socket.on('message', (raw) => this.onMessage(socket, state, String(raw)));
    socket.on('close', () => {
      if (state.session) this.sessions.delete(state.session);
    });
  }

  dispatch(type: string, data: unknown): void {
    for (const session of this.sessions) this.send(session, type, data);
  }

  dropAll(): void {
    for (const session of this.sessions) session.socket.terminate();
    this.sessions.clear();
  }

  /** Resolves once at least one session is identified or resumed. */
  get ready(): boolean {
    return this.sessions.size > 0;
  }

  private onMessage(socket: WebSocket, state: { session?: Session }, raw: string): void {
    const payload = JSON.parse(raw) as { op: number; d: Record<string, unknown> | number | null };
    const data = (payload.d ?? {}) as Record<string, unknown>;
    switch (payload.op) {
      case Op.Heartbeat:
        socket.send(JSON.stringify({ op: Op.HeartbeatAck, d: null, s: null, t: null }));
        return;
      case Op.Identify:
        if (data.token !== this.options.token && data.token !== `Bot ${this.options.token}`) {
          socket.close(4004, 'Authentication failed.');
          return;
        }
        this.identifyCount += 1;
        state.session = this.open(socket, randomBytes(16).toString('hex'));
        this.send(state.session, 'READY', {
          v: 10,
          user: this.options.user,
          guilds: [],
          session_id: state.session.id,
          resume_gateway_url: this.options.url(),
          shard: [0, 1],
          application: { id: this.options.applicationId, flags: 0 },
          user_settings: {},
          private_channels: [],
          relationships: [],
        });
        break;
      case Op.Resume:
        if (!this.known.has(String(data.session_id))) {
          socket.send(JSON.stringify({ op: Op.InvalidSession, d: false, s: null, t: null }));
          return;
        }
        this.resumeCount += 1;
        state.session = this.open(socket, String(data.session_id), Number(data.seq ?? 0));
        this.send(state.session, 'RESUMED', {});
        break;
      default:
        return;
    }
    for (const listener of [...this.listeners]) listener();
  }

  private open(socket: WebSocket, id: string, seq = 0): Session {
    const session = { id, socket, seq };
    this.known.add(id);
    this.sessions.add(session);
    return session;
  }

  private send(session: Session, type: string, data: unknown): void {
    session.seq += 1;
    session.socket.send(JSON.stringify({ op: Op.Dispatch, t: type, s: session.seq, d: data }));
  }
}
