import http from "node:http";
import https from "node:https";

export interface TransportRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  /** The answer is cut off and refused past this many bytes (counted while it streams in). */
  maxBytes: number;
}

export interface TransportResponse {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

/** Raised when an answer passes its byte limit; the rest is never read. */
export class TransportTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
  }
}

/** Raised when no complete answer arrived in time; the client turns it into a `timeout` HostError. */
export class TransportTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}

export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * HTTP/1.1 with keep-alive over node:http(s). Chosen over global fetch because an import makes
 * thousands of small calls and fetch's stream machinery costs several times more CPU per call
 * (see `npm run bench`). The timeout covers the whole exchange, body included.
 */
export function nodeTransport(): Transport {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 32 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 32 }),
  };
  return (r) =>
    new Promise((resolve, reject) => {
      const mod = r.url.protocol === "https:" ? https : http;
      const agent = r.url.protocol === "https:" ? agents["https:"] : agents["http:"];
      const headers = {
        ...r.headers,
        ...(r.body !== undefined ? { "content-length": String(Buffer.byteLength(r.body)) } : {}),
      };
      let settled = false;
      const req = mod.request(r.url, { method: r.method, headers, agent }, (res) => {
        const declared = Number(res.headers["content-length"] ?? 0);
        if (declared > r.maxBytes) {
          req.destroy();
          fail(new TransportTooLarge(r.maxBytes));
          return;
        }
        // One growing buffer, not a list of chunks: a hostile host sending millions of tiny
        // chunks would otherwise cost an object (and its slab) per chunk, far beyond maxBytes.
        const body = new GrowingBuffer(declared > 0 ? declared : 16 * 1024);
        res.on("data", (c: Buffer) => {
          if (settled) return;
          if (body.size + c.length > r.maxBytes) {
            req.destroy();
            fail(new TransportTooLarge(r.maxBytes));
            return;
          }
          body.append(c);
        });
        res.on("error", fail);
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const h = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            headers: {
              get: (name) => {
                const v = h[name.toLowerCase()];
                return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
              },
            },
            text: body.text(),
          });
        });
      });
      const timer = setTimeout(() => {
        req.destroy();
        fail(new TransportTimeout(r.timeoutMs));
      }, r.timeoutMs);
      function fail(err: unknown) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
      req.on("error", fail);
      req.end(r.body);
    });
}

/** Bytes appended into one buffer that doubles as it fills. */
class GrowingBuffer {
  #buf: Buffer;
  size = 0;

  constructor(initial: number) {
    this.#buf = Buffer.allocUnsafe(initial);
  }

  append(chunk: Buffer): void {
    if (this.size + chunk.length > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.size + chunk.length));
      this.#buf.copy(next, 0, 0, this.size);
      this.#buf = next;
    }
    chunk.copy(this.#buf, this.size);
    this.size += chunk.length;
  }

  text(): string {
    return this.#buf.toString("utf8", 0, this.size);
  }
}
