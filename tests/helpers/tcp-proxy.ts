import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of a server (the test PostgreSQL), to take it away from one
 * client without stopping it for everyone else: `cut()` stops listening and resets every open
 * connection (as a database restart does), `restore()` listens again on the same port.
 */
export class TcpProxy {
  readonly port: number;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  readonly #target: { host: string; port: number };

  private constructor(target: { host: string; port: number }, port: number) {
    this.#target = target;
    this.port = port;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((r) => probe.close(r));
    const proxy = new TcpProxy(target, port);
    await proxy.restore();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  route(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  async restore(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise((r) => server.close(r));
    for (const s of this.#sockets) s.resetAndDestroy();
    this.#sockets.clear();
    await closed;
  }

  close(): Promise<void> {
    return this.cut();
  }
}
