import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/**
 * The live suite's fake upstream providers: one loopback HTTP server per provider, answering that
 * provider's real OpenAI-compatible paths under its real base path (DeepSeek at the root and
 * `/v1`, Kimi `/v1`, Zhipu `/api/paas/v4`, Qwen `/compatible-mode/v1`, MiniMax `/v1`). A real
 * sub2api is pointed at them through a pack whose base URLs name these servers, so its account
 * tests, model previews and gateway calls reach something that answers like the provider, with
 * keys the test controls. Revoked keys answer 401 in the provider's error shape; depleted keys
 * answer their chat completions 402.
 */
export interface FakeProvider {
  id: string;
  /** The path under the origin that the pack's base_url ends in ("" for DeepSeek). */
  basePath: string;
  models: string[];
}

/**
 * The fake providers for a pack directory: each provider's base path from its `base_url`, and the
 * models it lists and serves from its `default_models` (so the suite follows the pack as it moves).
 */
export function fakeProvidersFromPack(packDir: string): FakeProvider[] {
  const dir = join(packDir, "providers");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const p = JSON.parse(readFileSync(join(dir, f), "utf8")) as {
        provider_id: string;
        base_url: string;
        default_models: string[];
      };
      return {
        id: p.provider_id,
        basePath: new URL(p.base_url).pathname.replace(/\/+$/, ""),
        models: p.default_models,
      };
    });
}

export interface UpstreamRequest {
  provider: string;
  method: string;
  path: string;
  model: string | undefined;
  stream: boolean;
  /** The last four characters of the bearer key, never the key itself. */
  keyTail: string;
}

export interface RunningUpstream {
  provider: FakeProvider;
  /** `http://127.0.0.1:PORT` + basePath: what the pack's base_url is set to. */
  baseUrl: string;
  server: Server;
}

export class FakeUpstreams {
  readonly revoked = new Set<string>();
  /**
   * Keys whose account has run out of money: their chat completions answer 402 the way DeepSeek
   * does ("Insufficient Balance", its documented 402), while their model list still answers.
   */
  readonly depleted = new Set<string>();
  readonly requests: UpstreamRequest[] = [];
  readonly running = new Map<string, RunningUpstream>();

  static async start(providers: FakeProvider[]): Promise<FakeUpstreams> {
    const ups = new FakeUpstreams();
    for (const provider of providers) {
      const server = createServer((req, res) => ups.handle(provider, req, res));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      ups.running.set(provider.id, {
        provider,
        baseUrl: `http://127.0.0.1:${port}${provider.basePath}`,
        server,
      });
    }
    return ups;
  }

  baseUrl(providerId: string): string {
    const up = this.running.get(providerId);
    if (!up) throw new Error(`no fake upstream for ${providerId}`);
    return up.baseUrl;
  }

  /** Calls that reached a provider with a chat completion (account tests and gateway traffic). */
  chatCalls(providerId: string): UpstreamRequest[] {
    return this.requests.filter((r) => r.provider === providerId && r.path.endsWith("/chat/completions"));
  }

  async stop(): Promise<void> {
    for (const up of this.running.values()) {
      up.server.closeAllConnections();
      await new Promise<void>((resolve) => up.server.close(() => resolve()));
    }
  }

  private handle(provider: FakeProvider, req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://upstream");
      const auth = String(req.headers.authorization ?? "");
      const key = auth.replace(/^Bearer\s+/i, "");
      let body: { model?: unknown; stream?: unknown } = {};
      try {
        body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
      } catch {
        body = {};
      }
      const model = typeof body.model === "string" ? body.model : undefined;
      const stream = body.stream === true;
      this.requests.push({
        provider: provider.id,
        method: req.method ?? "",
        path: url.pathname,
        model,
        stream,
        keyTail: key.slice(-4),
      });
      const base = provider.basePath;
      // DeepSeek documents both https://api.deepseek.com and …/v1 as its base URL.
      const roots = base === "" ? ["", "/v1"] : [base];
      const chatPaths = roots.map((r) => `${r}/chat/completions`);
      const modelPaths = roots.map((r) => `${r}/models`);
      if (key === "" || this.revoked.has(key)) return json(res, 401, authError(provider.id));
      if (req.method === "GET" && modelPaths.includes(url.pathname)) {
        return json(res, 200, {
          object: "list",
          data: provider.models.map((id) => ({
            id,
            object: "model",
            created: 1_767_225_600,
            owned_by: provider.id,
          })),
        });
      }
      if (req.method !== "POST" || !chatPaths.includes(url.pathname)) {
        return json(res, 404, {
          error: { message: `Not Found: ${url.pathname}`, type: "invalid_request_error" },
        });
      }
      if (this.depleted.has(key)) {
        return json(res, 402, {
          error: {
            message: "Insufficient Balance",
            type: "unknown_error",
            param: null,
            code: "invalid_request_error",
          },
        });
      }
      if (!model || !provider.models.includes(model)) {
        return json(res, 400, {
          error: { message: `Model Not Exist: ${model ?? ""}`, type: "invalid_request_error" },
        });
      }
      const content = `Hello from ${model} (live fake upstream).`;
      if (stream) return sse(res, model, content);
      return json(res, 200, {
        id: `chatcmpl-${this.requests.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: { prompt_tokens: 8, completion_tokens: 8, total_tokens: 16 },
      });
    });
  }
}

function authError(provider: string): unknown {
  if (provider === "zhipu")
    return {
      error: { code: "1002", message: "Authorization Token非法，请确认Authorization Token正确传递。" },
    };
  if (provider === "qwen")
    return {
      error: {
        message: "Incorrect API key provided.",
        type: "invalid_request_error",
        code: "invalid_api_key",
      },
    };
  return {
    error: {
      message: "Authentication Fails, Your api key is invalid",
      type: "authentication_error",
      code: "invalid_api_key",
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sse(res: ServerResponse, model: string, content: string): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: unknown) =>
    `data: ${JSON.stringify({
      id: "chatcmpl-live",
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...(usage ? { usage } : {}),
    })}\n\n`;
  res.write(chunk({ role: "assistant", content: "" }, null));
  res.write(chunk({ content }, null));
  res.write(chunk({}, "stop", { prompt_tokens: 8, completion_tokens: 8, total_tokens: 16 }));
  res.end("data: [DONE]\n\n");
}
