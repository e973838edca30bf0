import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The HTTP listener under a fake chat API: on 127.0.0.1, on the same port
 * again after an outage (clients keep their configured URL), tracking open
 * connections so `goDown()` can cut them as a real outage would.
 */
export class LoopbackHttpServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  /** `setup` runs on each new server before it listens (e.g. to handle WebSocket upgrades). */
  constructor(
    private readonly handler: RequestListener,
    private readonly setup: (server: Server) => void = () => undefined,
  ) {}

  /** 0 before the first start; then the port kept across restarts. */
  get port(): number {
    return this.boundPort;
  }

  /** Listens (again, on the same port after the first start). */
  async start(): Promise<void> {
    const server = createServer(this.handler);
    this.setup(server);
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
  }

  /** Cuts open connections and refuses new ones until `start()`; `beforeClose` runs only when it was up. */
  async goDown(beforeClose: () => void = () => undefined): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    beforeClose();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The whole request body, or undefined when there is none. */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

/**
 * Resolves with the first truthy `probe()`, checked now and each time one of
 * `triggers` fires (a recorded call, a gateway event); rejects after `timeoutMs`.
 */
export function waitForProbe<T>(
  probe: () => T | undefined | false,
  triggers: Set<() => void>[],
  timeoutMs: number,
  name: string,
): Promise<T> {
  const found = probe();
  if (found) return Promise.resolve(found);
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = () => {
      for (const trigger of triggers) trigger.delete(check);
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${name}: condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      const value = probe();
      if (!value) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    for (const trigger of triggers) trigger.add(check);
  });
}
