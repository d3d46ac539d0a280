import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of a server (the test PostgreSQL), to take it away from one
 * client without stopping it for everyone else: `cut()` stops listening and resets every open
 * connection (as a database restart does), `restore()` listens again on the same port. With
 * `delayMs`, every answer from the server reaches the client that much later: each round trip
 * costs `delayMs` more, as a database in another zone does (the benchmark's PostgreSQL).
 */
export class TcpProxy {
  readonly port: number;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  readonly #target: { host: string; port: number };
  readonly #delayMs: number;

  private constructor(target: { host: string; port: number }, port: number, delayMs: number) {
    this.#target = target;
    this.port = port;
    this.#delayMs = delayMs;
  }

  static async start(
    target: { host: string; port: number },
    options: { delayMs?: number } = {},
  ): Promise<TcpProxy> {
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((r) => probe.close(r));
    const proxy = new TcpProxy(target, port, options.delayMs ?? 0);
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
      if (this.#delayMs === 0) upstream.pipe(client);
      // Same delay for every chunk: timers of equal delay fire in the order they were set.
      else upstream.on("data", (chunk) => setTimeout(() => client.write(chunk), this.#delayMs));
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
