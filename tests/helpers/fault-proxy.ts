import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A proxy in front of the simulated host that lets the host act and then loses the answer: the
 * faults real networks produce after the host did the work, which a fault injected inside the
 * host (refused before acting) never shows.
 * - `drop`: the host acts, its answer is thrown away and the connection reset;
 * - `503`: the host acts, the client gets a load balancer's 503 page instead of the answer;
 * - `hang`: the host acts, the client hears nothing until it gives up (its own timeout);
 * - `late`: the request reaches the host only after the client gave up; the host still acts;
 * - `refuse`: the request never reaches the host (the old fault model; for kill points before the host acts).
 */
export type ProxyMode = "drop" | "503" | "hang" | "late" | "refuse";

export interface ProxyRule {
  /** Which requests the rule is for: `METHOD /path` (query string left out). */
  match: RegExp;
  mode: ProxyMode;
  /** The n-th matching request (1-based) is faulted, the ones before pass; default 1. */
  nth?: number;
  /** How many matching requests from the n-th on are faulted; default 1. */
  times?: number;
  /**
   * Runs when the faulted request reaches the proxy, before it is forwarded (a kill point); the
   * request waits for it, so a kill point can hold the host back until the caller is dead.
   */
  onHit?: (method: string, path: string) => Promise<void> | undefined;
}

export interface ProxyHit {
  method: string;
  path: string;
  mode: ProxyMode;
}

export class FaultProxy {
  readonly hits: ProxyHit[] = [];
  /** Every request that passed, for reports: `METHOD /path`. */
  readonly seen: string[] = [];
  #server: Server;
  #target: URL;
  #rule: ProxyRule | undefined;
  #matched = 0;
  #pending = new Set<Promise<void>>();
  #holdMs: number;
  url = "";

  private constructor(target: string, holdMs: number) {
    this.#target = new URL(target);
    this.#holdMs = holdMs;
    this.#server = createServer((req, res) => {
      const work = this.#handle(req, res).catch(() => {
        res.destroy();
      });
      this.#pending.add(work);
      void work.finally(() => this.#pending.delete(work));
    });
  }

  /** Starts a proxy to `target`; `holdMs` is how long `hang` and `late` hold (longer than the client's timeout). */
  static async start(target: string, holdMs = 700): Promise<FaultProxy> {
    const p = new FaultProxy(target, holdMs);
    await new Promise<void>((resolve) => p.#server.listen(0, "127.0.0.1", resolve));
    p.url = `http://127.0.0.1:${(p.#server.address() as AddressInfo).port}`;
    return p;
  }

  arm(rule: ProxyRule): void {
    this.#rule = rule;
    this.#matched = 0;
  }

  disarm(): void {
    this.#rule = undefined;
  }

  /** Waits until every held or late request has reached the host and finished there. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async close(): Promise<void> {
    this.disarm();
    await this.settle();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #fault(method: string, path: string): ProxyRule | undefined {
    const rule = this.#rule;
    if (!rule?.match.test(`${method} ${path}`)) return undefined;
    this.#matched += 1;
    const first = rule.nth ?? 1;
    return this.#matched >= first && this.#matched < first + (rule.times ?? 1) ? rule : undefined;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0] as string;
    this.seen.push(`${method} ${path}`);
    const rule = this.#fault(method, path);
    if (!rule) {
      const answer = await this.#forward(req, body);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      return;
    }
    this.hits.push({ method, path, mode: rule.mode });
    await rule.onHit?.(method, path);
    switch (rule.mode) {
      case "drop":
        await this.#forward(req, body);
        res.destroy();
        return;
      case "503":
        await this.#forward(req, body);
        res.writeHead(503, { "content-type": "text/html" });
        res.end("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>");
        return;
      case "hang":
        await this.#forward(req, body);
        await sleep(this.#holdMs);
        res.destroy();
        return;
      case "late":
        await sleep(this.#holdMs);
        res.destroy();
        await this.#forward(req, body);
        return;
      case "refuse":
        res.destroy();
        return;
    }
  }

  #forward(req: IncomingMessage, body: Buffer) {
    return new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>(
      (resolve, reject) => {
        const headers = { ...req.headers, host: this.#target.host };
        const out = request(
          new URL(req.url ?? "/", this.#target),
          { method: req.method, headers },
          (answer) => {
            readAll(answer).then(
              (data) =>
                resolve({
                  status: answer.statusCode ?? 502,
                  headers: Object.fromEntries(
                    Object.entries(answer.headers).filter(
                      (e): e is [string, string | string[]] =>
                        e[1] !== undefined && e[0] !== "transfer-encoding",
                    ),
                  ),
                  body: data,
                }),
              reject,
            );
          },
        );
        out.on("error", reject);
        out.end(body);
      },
    );
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
