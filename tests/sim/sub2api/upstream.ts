import type { SimProfile } from "./profiles.js";

/**
 * The fake upstream providers behind the simulated host. Each provider answers only its real
 * endpoint paths (anything else is a 404, as the real APIs answer), keyed by provider API key. A
 * key is valid unless it was revoked. Unknown origins behave as a generic OpenAI-compatible API
 * that serves `…/chat/completions` under any path.
 */
export interface UpstreamCall {
  ok: boolean;
  status: number;
  body: string;
  content?: string;
}

interface Provider {
  chatPaths: string[];
  models: string[];
  /** How this provider refuses a key (../shared/docs/evidence/providers-2026-12.md §4.3). */
  refusals?: Refusals;
}

interface Answer {
  status: number;
  body: string;
}
interface Refusals {
  auth: Answer;
  balance: Answer;
  rateLimit: Answer;
}

const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body) });
const openai = (status: number, message: string, type: string, code: string | null = null) =>
  json(status, { error: { message, type, param: null, code } });

/**
 * Each provider's own refusals, as the evidence notes give them (§4.3, read 2026-12-02): the
 * status and business code are the documented ones; message texts where the notes give none are
 * illustrative. DeepSeek: 401 "Authentication Fails", 402 "Insufficient Balance", 429
 * (api-docs.deepseek.com/quick_start/error_codes).
 */
const DEEPSEEK: Refusals = {
  auth: openai(401, "Authentication Fails, Your api key is invalid", "authentication_error"),
  balance: openai(402, "Insufficient Balance", "unknown_error", "invalid_request_error"),
  rateLimit: openai(429, "Rate limit reached for requests", "rate_limit_error"),
};
/** Kimi: 401 invalid_authentication_error; 403 "typically … insufficient account balance"; 429. */
const KIMI: Refusals = {
  auth: json(401, { error: { message: "Invalid Authentication", type: "invalid_authentication_error" } }),
  balance: json(403, {
    error: {
      message: "Your account is suspended, please check your balance",
      type: "permission_denied_error",
    },
  }),
  rateLimit: json(429, { error: { message: "rate limit reached", type: "rate_limit_reached_error" } }),
};
/** Zhipu (docs.bigmodel.cn api-code): 401 with 1002; arrears are 1113 under HTTP 429; 1302 rate limit. */
const ZHIPU: Refusals = {
  auth: json(401, {
    error: { code: "1002", message: "Authorization Token非法，请确认Authorization Token正确传递。" },
  }),
  balance: json(429, { error: { code: "1113", message: "您的账户已欠费，请充值后重试。" } }),
  rateLimit: json(429, { error: { code: "1302", message: "您当前使用该API的并发数过高，请降低并发。" } }),
};
/** Qwen compatible mode: 401 invalid_api_key (other region too); Arrearage under HTTP 400; 429 Throttling. */
const QWEN: Refusals = {
  auth: openai(401, "Incorrect API key provided. ", "invalid_request_error", "invalid_api_key"),
  balance: openai(
    400,
    "Access denied, please make sure your account is in good standing.",
    "Arrearage",
    "Arrearage",
  ),
  rateLimit: openai(
    429,
    "Requests rate limit exceeded, please try again later.",
    "Throttling.RateQuota",
    "Throttling.RateQuota",
  ),
};
/** MiniMax: business errors in base_resp, 1008 "余额不足" under HTTP 200 (errorcode.md); 1002 rate limit. */
const MINIMAX: Refusals = {
  auth: json(401, { base_resp: { status_code: 1004, status_msg: "login fail: invalid api key" } }),
  balance: json(200, {
    id: "",
    choices: null,
    base_resp: { status_code: 1008, status_msg: "insufficient balance" },
  }),
  rateLimit: json(429, { base_resp: { status_code: 1002, status_msg: "rate limit exceeded(RPM)" } }),
};

const PROVIDERS: Record<string, Provider> = {
  // What each provider answers as of 2026-12-02 (docs/packs.md lists the sources).
  // DeepSeek serves both paths (its docs give https://api.deepseek.com and …/v1 as base URLs).
  // deepseek-v4-flash still answers (served by V4.1 Flash); deepseek-chat/-reasoner retired 2026-07-24.
  "https://api.deepseek.com": {
    refusals: DEEPSEEK,
    chatPaths: ["/chat/completions", "/v1/chat/completions"],
    models: ["deepseek-flash", "deepseek-v4-pro", "deepseek-v4-flash"],
  },
  // Moonshot's two platforms (.cn China, .ai international) serve the same catalogue.
  "https://api.moonshot.cn": {
    refusals: KIMI,
    chatPaths: ["/v1/chat/completions"],
    models: [
      "kimi-k3",
      "kimi-k2.6",
      "kimi-k2.7-code",
      "moonshot-v1-8k",
      "moonshot-v1-32k",
      "moonshot-v1-128k",
    ],
  },
  "https://api.moonshot.ai": {
    refusals: KIMI,
    chatPaths: ["/v1/chat/completions"],
    models: [
      "kimi-k3",
      "kimi-k2.6",
      "kimi-k2.7-code",
      "moonshot-v1-8k",
      "moonshot-v1-32k",
      "moonshot-v1-128k",
    ],
  },
  "https://open.bigmodel.cn": {
    refusals: ZHIPU,
    chatPaths: ["/api/paas/v4/chat/completions"],
    models: ["glm-5.2", "glm-5.1", "glm-5", "glm-4.7"],
  },
  "https://api.z.ai": {
    refusals: ZHIPU,
    chatPaths: ["/api/paas/v4/chat/completions"],
    models: ["glm-5.2", "glm-5.1", "glm-5", "glm-4.7"],
  },
  // Model Studio: Beijing, Singapore, Virginia (qwen-turbo went offline 2026-10-10).
  "https://dashscope.aliyuncs.com": {
    refusals: QWEN,
    chatPaths: ["/compatible-mode/v1/chat/completions"],
    models: ["qwen-plus", "qwen-flash", "qwen3.6-plus", "qwen3.6-flash", "qwen3.7-max", "qwen3.7-flash"],
  },
  "https://dashscope-intl.aliyuncs.com": {
    refusals: QWEN,
    chatPaths: ["/compatible-mode/v1/chat/completions"],
    models: ["qwen-plus", "qwen-flash", "qwen3.6-plus", "qwen3.6-flash", "qwen3.7-max", "qwen3.7-flash"],
  },
  "https://dashscope-us.aliyuncs.com": {
    refusals: QWEN,
    chatPaths: ["/compatible-mode/v1/chat/completions"],
    models: ["qwen-plus", "qwen-flash", "qwen3.6-plus", "qwen3.6-flash", "qwen3.7-max", "qwen3.7-flash"],
  },
  "https://api.minimaxi.com": {
    refusals: MINIMAX,
    chatPaths: ["/v1/chat/completions"],
    models: [
      "MiniMax-M3",
      "MiniMax-M2.7",
      "MiniMax-M2.7-highspeed",
      "MiniMax-M2.5",
      "MiniMax-M2.5-highspeed",
    ],
  },
  "https://api.minimax.io": {
    refusals: MINIMAX,
    chatPaths: ["/v1/chat/completions"],
    models: [
      "MiniMax-M3",
      "MiniMax-M2.7",
      "MiniMax-M2.7-highspeed",
      "MiniMax-M2.5",
      "MiniMax-M2.5-highspeed",
    ],
  },
};

/**
 * How a build joins an account's base URL and an endpoint such as `/chat/completions`.
 * `v1_only` (0.1.126 and older): the relative endpoint only after a base ending in `/v1`, else
 * `/v1/…`; `version_dir` (0.1.127+: `buildOpenAIEndpointURL`, 679c0865a, used for chat from
 * 8927ab091, `service/openai_gateway_chat_completions_raw.go:488`): after any API version segment,
 * as `isOpenAIAPIVersionSegment` reads one (`service/openai_endpoint_url.go:46-80@63b0631a`).
 */
export function joinEndpoint(profile: SimProfile, baseUrl: string, relative: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  if (base.endsWith(relative)) return base;
  const last = base.slice(base.lastIndexOf("/") + 1);
  const versioned = profile.urlJoin === "version_dir" ? isVersionSegment(last) : last === "v1";
  return versioned ? `${base}${relative}` : `${base}/v1${relative}`;
}

/** `v<digits>`, then nothing, `.<digits>`, or a suffix starting alpha / beta / preview (Go code, lower-cased). */
function isVersionSegment(segment: string): boolean {
  const s = segment.trim().toLowerCase();
  const m = /^v\d+/.exec(s);
  if (!m) return false;
  const rest = s.slice(m[0].length);
  if (rest === "") return true;
  if (rest.startsWith(".")) return /^\.\d+$/.test(rest);
  return rest.startsWith("alpha") || rest.startsWith("beta") || rest.startsWith("preview");
}

/**
 * `security.url_allowlist.upstream_hosts` defaults (`config/config.go:2021-2033@67380eafd`): no
 * api.deepseek.com, no dashscope.aliyuncs.com, no api.minimax.io. The Google and Azure entries of
 * that list are left out here (no relay provider uses them).
 */
export const DEFAULT_UPSTREAM_HOSTS = [
  "api.openai.com",
  "api.anthropic.com",
  "api.kimi.com",
  "api.moonshot.ai",
  "api.moonshot.cn",
  "open.bigmodel.cn",
  "api.minimaxi.com",
];

/**
 * The host's base-URL check with the allowlist on (`urlvalidator.ValidateHTTPSURL` with
 * `RequireAllowlist`, called by `validateUpstreamBaseURL`, account_test_service.go:185-200@67380eafd):
 * the error text, or undefined when the URL passes.
 */
export function allowlistError(allowlist: string[] | undefined, baseUrl: string): string | undefined {
  if (!allowlist) return undefined;
  let host: string;
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== "https:") return "invalid url scheme";
    host = u.hostname.toLowerCase();
  } catch {
    return "invalid url";
  }
  return allowlist.includes(host) ? undefined : `host is not allowed: ${host}`;
}

const errorBody = (message: string, type: string) => JSON.stringify({ error: { message, type } });

export class FakeUpstream {
  readonly revoked = new Set<string>();
  /** Keys whose provider balance is low (read by the host's CN balance check). */
  readonly lowBalance = new Set<string>();
  /** Keys the provider answers with this status (402 insufficient balance, 429 rate limit). */
  readonly failing = new Map<string, 402 | 429>();
  /** Keys whose account has no balance: chat calls get the provider's own refusal; listing models still works. */
  readonly emptyBalance = new Set<string>();
  /** Keys the provider rate-limits now, on every endpoint. */
  readonly rateLimited = new Set<string>();
  /**
   * Keys of one region: valid only at this origin; every other origin answers 401, as a revoked
   * key (Qwen and Kimi keys are region-specific, evidence §4.1). Keys not listed work anywhere.
   */
  readonly homes = new Map<string, string>();
  calls = 0;
  /** Every URL called, newest last (tests read which path a build used). */
  readonly urls: string[] = [];
  /** The model of every chat POST, newest last (what the upstream was asked for). */
  readonly askedModels: string[] = [];

  revoke(key: string) {
    this.revoked.add(key);
  }

  restore(key: string) {
    this.revoked.delete(key);
  }

  /** Balances a test set per key; otherwise CNY 100, or 0 for an `emptyBalance` key. */
  readonly balances = new Map<string, { currency: string; balance: number }[]>();

  /** What the provider's balance endpoint answers for this key (DeepSeek `balance_infos`, Kimi CNY). */
  balanceOf(apiKey: string, platform: string): { currency: string; balance: number }[] {
    const set = this.balances.get(apiKey);
    if (set) return platform === "kimi" ? set.slice(0, 1) : set;
    return [{ currency: "CNY", balance: this.emptyBalance.has(apiKey) ? 0 : 100 }];
  }

  /** Whether the upstream (at this URL's origin, when given) would accept this key at all. */
  authorized(apiKey: string, url?: string): boolean {
    if (apiKey === "" || this.revoked.has(apiKey)) return false;
    const home = this.homes.get(apiKey);
    return home === undefined || url === undefined || origin(url) === home;
  }

  /**
   * The status of `GET …/models` with this key, as the host's model sync and preview read it:
   * 401 for a key refused here, 429 when rate-limited; listing costs nothing, so an empty
   * balance does not stop it (an assumption: the evidence notes give no listing refusals).
   */
  listStatus(baseUrl: string, apiKey: string): number {
    if (!this.authorized(apiKey, baseUrl)) return 401;
    return this.rateLimited.has(apiKey) ? 429 : 200;
  }

  /** A provider's catalogue as changed by a test (a model retired, one added), by origin. */
  readonly catalogues = new Map<string, string[]>();

  /** The model list of the provider behind a base URL (what a models sync reads). */
  models(baseUrl: string): string[] | undefined {
    const o = origin(baseUrl);
    return (o !== undefined ? this.catalogues.get(o) : undefined) ?? providerOf(baseUrl)?.models;
  }

  /** The provider behind this base URL now serves exactly these models (it retires the others). */
  setModels(baseUrl: string, models: string[]) {
    const o = origin(baseUrl);
    if (o !== undefined) this.catalogues.set(o, models);
  }

  /** POST to a full upstream URL. Only a provider's chat paths exist; everything else is 404. */
  post(url: string, apiKey: string, model: string): UpstreamCall {
    this.calls += 1;
    this.urls.push(url);
    this.askedModels.push(model);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, status: 0, body: `invalid URL ${url}` };
    }
    const provider = providerOf(url);
    const path = parsed.pathname;
    const served = provider ? provider.chatPaths.includes(path) : path.endsWith("/chat/completions");
    if (!served)
      return { ok: false, status: 404, body: errorBody(`Not Found: ${path}`, "invalid_request_error") };
    const refusals = provider?.refusals;
    if (!this.authorized(apiKey, url)) {
      return refusals
        ? { ok: false, ...refusals.auth }
        : {
            ok: false,
            status: 401,
            body: errorBody("Authentication Fails, Your api key is invalid", "authentication_error"),
          };
    }
    if (refusals && this.emptyBalance.has(apiKey)) return { ok: false, ...refusals.balance };
    if (refusals && this.rateLimited.has(apiKey)) return { ok: false, ...refusals.rateLimit };
    const failure = this.failing.get(apiKey);
    if (failure === 402)
      return { ok: false, status: 402, body: errorBody("Insufficient Balance", "insufficient_balance") };
    if (failure === 429)
      return { ok: false, status: 429, body: errorBody("Rate limit reached", "rate_limit_error") };
    if (provider && !(this.models(url) ?? provider.models).includes(model)) {
      return {
        ok: false,
        status: 400,
        body: errorBody(`Model Not Exist: ${model}`, "invalid_request_error"),
      };
    }
    return { ok: true, status: 200, body: "", content: `Hello from ${model} (simulated upstream).` };
  }
}

function origin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function providerOf(url: string): Provider | undefined {
  try {
    return PROVIDERS[new URL(url).origin];
  } catch {
    return undefined;
  }
}
