/**
 * The fake upstream providers behind the simulated host: an OpenAI-compatible chat API per base
 * URL, keyed by provider API key. A key is valid unless it was revoked (or never issued, when the
 * upstream is set to accept only issued keys).
 */
export interface UpstreamCall {
  ok: boolean;
  status: number;
  body: string;
  content?: string;
}

const CATALOG: Record<string, string[]> = {
  "https://api.deepseek.com": ["deepseek-chat", "deepseek-reasoner"],
  "https://api.moonshot.cn/v1": [
    "kimi-k2-0905-preview",
    "kimi-k2-turbo-preview",
    "moonshot-v1-8k",
    "moonshot-v1-32k",
  ],
  "https://open.bigmodel.cn/api/paas/v4": ["glm-4.6", "glm-4.5", "glm-4.5-air", "glm-4.5-flash"],
  "https://dashscope.aliyuncs.com/compatible-mode/v1": [
    "qwen-plus",
    "qwen-max",
    "qwen-turbo",
    "qwen3-coder-plus",
  ],
  "https://api.minimax.io/v1": ["MiniMax-M2", "MiniMax-M1"],
};

export class FakeUpstream {
  readonly revoked = new Set<string>();
  readonly catalog = new Map<string, string[]>(Object.entries(CATALOG));
  calls = 0;

  revoke(key: string) {
    this.revoked.add(key);
  }

  restore(key: string) {
    this.revoked.delete(key);
  }

  /** Whether the upstream would accept this key at all. */
  authorized(apiKey: string): boolean {
    return apiKey !== "" && !this.revoked.has(apiKey);
  }

  models(baseUrl: string): string[] | undefined {
    return this.catalog.get(baseUrl.replace(/\/+$/, ""));
  }

  /** POST {base}/chat/completions. Unknown base URLs accept any model (a generic compatible API). */
  chat(baseUrl: string, apiKey: string, model: string, path: "chat" | "responses" = "chat"): UpstreamCall {
    this.calls += 1;
    if (!this.authorized(apiKey)) {
      return {
        ok: false,
        status: 401,
        body: JSON.stringify({
          error: { message: "Authentication Fails, Your api key is invalid", type: "authentication_error" },
        }),
      };
    }
    if (path === "responses") {
      // Chinese providers speak chat-completions only.
      return {
        ok: false,
        status: 404,
        body: JSON.stringify({ error: { message: "Not Found", type: "invalid_request_error" } }),
      };
    }
    const models = this.models(baseUrl);
    if (models && !models.includes(model)) {
      return {
        ok: false,
        status: 400,
        body: JSON.stringify({
          error: { message: `Model Not Exist: ${model}`, type: "invalid_request_error" },
        }),
      };
    }
    return { ok: true, status: 200, body: "", content: `Hello from ${model} (simulated upstream).` };
  }
}
