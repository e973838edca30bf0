import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A byte-for-byte proxy in front of a real service (TCP port or unix socket)
 * that a test can cut and restore, to see how Runway behaves when the service
 * goes away and comes back without stopping the machine's shared service.
 */
export class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: { port: number; host?: string } | { path: string }) {}

  /** Listens on `listen` (a port, 0 for any, or a unix socket path); returns the port (or 0 for a path). */
  async start(listen: number | string = 0): Promise<number> {
    const server = createServer((client) => {
      const upstream = 'path' in this.target ? connect(this.target.path) : connect(this.target.port, this.target.host ?? '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (typeof listen === 'string') server.listen(listen, resolve);
      else server.listen(listen, '127.0.0.1', resolve);
    });
    this.server = server;
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Closes the listener and every open connection, as if the service died. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
