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
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers["content-length"] ?? 0);
        if (declared > r.maxBytes) {
          req.destroy();
          fail(new TransportTooLarge(r.maxBytes));
          return;
        }
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > r.maxBytes) {
            req.destroy();
            fail(new TransportTooLarge(r.maxBytes));
            return;
          }
          chunks.push(c);
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
            text: Buffer.concat(chunks).toString("utf8"),
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
