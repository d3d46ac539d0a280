import { randomBytes } from "node:crypto";
import { paused } from "./admin-accounts.js";
import { type Ctx, route, type Sim } from "./context.js";
import { middlewareError, readJson } from "./gin.js";
import { upstreamUrl } from "./routing.js";
import type { SimAccount, SimApiKey, SimGroup } from "./state.js";

const openaiError = (c: Ctx, status: number, type: string, message: string) =>
  c.json({ error: { type, message } }, status as 400);

/** API-key auth of the gateway (contract §10.1): returns the key and its group, or an error response. */
function authenticate(sim: Sim, c: Ctx): { key: SimApiKey; group: SimGroup } | Response {
  if (c.req.query("key") !== undefined || c.req.query("api_key") !== undefined) {
    return middlewareError(
      c,
      400,
      "api_key_in_query_deprecated",
      "API key in query parameters is not supported",
    );
  }
  const auth = c.req.header("authorization") ?? "";
  const secret = auth.startsWith("Bearer ")
    ? auth.slice(7).trim()
    : (c.req.header("x-api-key") ?? c.req.header("x-goog-api-key") ?? "");
  if (!secret) return middlewareError(c, 401, "API_KEY_REQUIRED", "API key is required");
  const key = sim.state.liveKeys().find((k) => k.key === secret);
  if (!key) return middlewareError(c, 401, "INVALID_API_KEY", "Invalid API key");
  if (key.status !== "active") return middlewareError(c, 401, "API_KEY_DISABLED", "API key is disabled");
  const user = sim.state.users.get(key.userId);
  if (!user || user.deletedAt) return middlewareError(c, 401, "USER_NOT_FOUND", "User not found");
  if (user.status !== "active") return middlewareError(c, 401, "USER_INACTIVE", "User is inactive");
  const group = key.groupId === null ? undefined : sim.state.groups.get(key.groupId);
  if (group?.deletedAt && sim.profile.groupSoftDelete) {
    return middlewareError(c, 403, "GROUP_DELETED", "The group of this API key has been deleted");
  }
  if (!group || group.deletedAt) {
    return c.json(
      {
        type: "error",
        error: {
          type: "permission_error",
          message: "API Key is not assigned to any group, please contact the administrator",
        },
      },
      403,
    );
  }
  if (group.subscriptionType === "subscription") {
    const sub = [...sim.state.subscriptions.values()].find(
      (s) => s.userId === user.id && s.groupId === group.id && s.status !== "revoked",
    );
    if (!sub)
      return middlewareError(c, 403, "SUBSCRIPTION_NOT_FOUND", "No active subscription found for this group");
    if (sub.status !== "active" || sub.expiresAt <= Date.now())
      return middlewareError(c, 403, "SUBSCRIPTION_INVALID", "Subscription is expired or suspended");
  } else if (user.balance <= 0) {
    return middlewareError(c, 403, "INSUFFICIENT_BALANCE", "Insufficient account balance");
  }
  return { key, group };
}

export function registerGateway(sim: Sim) {
  const { profile, state, upstream } = sim;
  if (!profile.chatCompletions) {
    // Dec 2025 builds: /v1/messages and /v1/models only; chat completions is an unknown route.
    route(sim, "GET", "/v1/models", (c) => {
      const auth = authenticate(sim, c);
      if (auth instanceof Response) return auth;
      return c.json({ object: "list", data: [{ id: "claude-sonnet-4-5", object: "model" }] });
    });
    return;
  }

  const chat = async (c: Ctx) => {
    const auth = authenticate(sim, c);
    if (auth instanceof Response) return auth;
    const { group } = auth;
    if (!profile.chatPlatforms.includes(group.platform)) {
      return openaiError(
        c,
        404,
        "not_found_error",
        `Chat Completions API is not supported for this platform (${group.platform})`,
      );
    }
    const body = await readJson(c);
    if (typeof body === "string" || typeof body.model !== "string" || !Array.isArray(body.messages)) {
      return openaiError(c, 400, "invalid_request_error", "model and messages are required");
    }
    const model = body.model;
    // Accounts are chosen by the name the user sent (openai_chat_completions.go:161-174 passes
    // reqModel; openai_account_scheduler.go:1758 `IsModelSupported(req.RequestedModel)`): a
    // non-empty account model_mapping is a whitelist of requested names (account.go:825-847).
    const supports = (a: SimAccount) => {
      const keys = Object.keys((a.credentials.model_mapping ?? {}) as Record<string, string>);
      return (
        keys.length === 0 ||
        keys.some((k) => k === model || (k.endsWith("*") && model.startsWith(k.slice(0, -1))))
      );
    };
    // Persistent eligibility only (active, schedulable), as the no-account diagnosis reads it.
    const pool = state
      .liveAccounts()
      .filter(
        (a) =>
          a.groupIds.includes(group.id) &&
          a.platform === group.platform &&
          a.status === "active" &&
          a.schedulable,
      );
    const candidates = pool
      .filter((a) => !paused(a) && supports(a))
      .sort((x, y) => x.priority - y.priority || x.id - y.id);
    if (candidates.length === 0) {
      // classifyNoAccountError (handler/no_account_error.go:59-92@2bc139ab5, :108-112@67380eafd):
      // 404 model_not_found when the group has accounts but none maps the model, else 503.
      // Met live on both (2026-12-02) for an account whose credentials.model_mapping lacks it.
      if (pool.length > 0 && !pool.some(supports))
        return openaiError(
          c,
          404,
          "model_not_found",
          `Model ${JSON.stringify(body.model)} is not supported by any configured account in this group`,
        );
      return openaiError(c, 503, "api_error", "Service temporarily unavailable");
    }
    // The group's channel then renames the model in the body (openai_chat_completions.go:111,231-234),
    // and the chosen account's own mapping applies to that name (openai_gateway_chat_completions_raw.go:76
    // → resolveOpenAIForwardModel, openai_model_mapping.go:17 → ResolveMappedModel, account.go:856-870).
    const forwardModel = channelMappedModel(sim, group, model) ?? model;
    let lastStatus = 502;
    for (const account of candidates) {
      const mapping = (account.credentials.model_mapping ?? {}) as Record<string, string>;
      const upstreamModel = mapping[forwardModel] ?? forwardModel;
      const r = upstream.post(
        upstreamUrl(profile, account, "serve"),
        String(account.credentials.api_key ?? ""),
        upstreamModel,
      );
      if (r.ok) {
        // The upstream's body as it came (openai_gateway_chat_completions_raw.go:472@2bc139ab5):
        // its `model` is the one the upstream served, the mapped name (met live, 2026-12-02).
        return c.json({
          id: `chatcmpl-${randomBytes(8).toString("hex")}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: upstreamModel,
          choices: [{ index: 0, message: { role: "assistant", content: r.content }, finish_reason: "stop" }],
          usage: { prompt_tokens: 8, completion_tokens: 8, total_tokens: 16 },
        });
      }
      lastStatus = r.status;
      // A 400 is no failover case: the client gets the upstream's status and message
      // (handleCompatErrorResponse, openai_gateway_upstream_errors.go:706-724@2bc139ab5,
      // :832-850@67380eafd); met live: 400 "Model Not Exist: old-model" with no mapping.
      if (r.status === 400)
        return openaiError(c, 400, "invalid_request_error", upstreamMessage(r.body) || "Upstream error: 400");
      // RateLimitService.HandleUpstreamError case 402 (ratelimit_service.go@2bc139ab5, the same at
      // 49504adc9 and 67380eafd), met live on all three: a CN-platform account (IsCNProvider: kimi,
      // zhipu, deepseek) is set temp-unschedulable for 2 × the balance-check interval (20 min by
      // default) with reason `cn_balance_low: <upstream message>`, status and schedulable untouched
      // (handleCNProviderInsufficientBalance, ratelimit_cn_providers.go:54-79); any other platform
      // goes through handleAuthError → SetError: status=error, schedulable=false (account_repo.go).
      if (r.status === 402) {
        const msg = upstreamMessage(r.body);
        if (CN_PROVIDER_PLATFORMS.includes(account.platform)) {
          account.tempUnschedulableUntil = Date.now() + 20 * 60_000;
          account.tempUnschedulableReason = `cn_balance_low: ${msg || "余额不足，账号临时停调"}`;
        } else {
          account.status = "error";
          account.schedulable = false;
          account.errorMessage = `Payment required (402): ${msg || "insufficient balance or billing issue"}`;
        }
      }
      // ratelimit_cn_providers.go:122-141@67380eafd: a 429 pauses the account (SetRateLimited)
      // without touching status or schedulable.
      if (r.status === 429) {
        const now = Date.now();
        account.rateLimitedAt = now;
        account.rateLimitResetAt = now + 60_000;
      }
      if (r.status === 401 || r.status === 403) {
        account.status = "error";
        account.errorMessage = `upstream ${r.status}`;
      }
    }
    if (lastStatus === 429) return openaiError(c, 429, "rate_limit_error", "Upstream rate limit exceeded");
    return openaiError(c, 502, "upstream_error", "Upstream request failed");
  };
  route(sim, "POST", "/v1/chat/completions", chat);
  route(sim, "POST", "/chat/completions", chat);
  route(sim, "GET", "/v1/models", (c) => {
    const auth = authenticate(sim, c);
    if (auth instanceof Response) return auth;
    const ids = new Set<string>();
    for (const a of state.liveAccounts().filter((x) => x.groupIds.includes(auth.group.id))) {
      for (const k of Object.keys((a.credentials.model_mapping ?? {}) as Record<string, string>)) ids.add(k);
    }
    return c.json({
      object: "list",
      data: [...ids].map((id) => ({ id, object: "model", owned_by: auth.group.platform })),
    });
  });
}

/**
 * `ChannelService.ResolveChannelMappingAndRestrict` (channel_service.go:556-586@67380eafd): the
 * active channel of the group (lookupGroupChannel :488-502 skips a disabled one), its mapping for the
 * group's platform (matchingPlatforms :358-363), keys matched lower-cased (expandMappingToCache
 * :244-263, lookupMappingAcrossPlatforms :440-453; a trailing `*` is a prefix). It never refuses a
 * model: an unmapped name passes through unchanged.
 */
function channelMappedModel(sim: Sim, group: SimGroup, model: string): string | undefined {
  const ch = [...sim.state.channels.values()].find((c) => c.groupIds.includes(group.id));
  if (ch?.status !== "active") return undefined;
  const lower = model.toLowerCase();
  const entries = Object.entries(ch.modelMapping[group.platform] ?? {});
  const exact = entries.find(([src]) => !src.endsWith("*") && src.toLowerCase() === lower);
  if (exact) return exact[1];
  const wild = entries.find(([src]) => src.endsWith("*") && lower.startsWith(src.slice(0, -1).toLowerCase()));
  return wild?.[1];
}

/** sub2api's `IsCNProvider` (service/domain_constants.go:90-97@2bc139ab5). */
const CN_PROVIDER_PLATFORMS: readonly string[] = ["kimi", "zhipu", "deepseek"];

/** `extractUpstreamErrorMessage`: the provider's `error.message` (or top-level `message`). */
function upstreamMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown }; message?: unknown };
    const m = j.error?.message ?? j.message;
    return typeof m === "string" ? m.trim() : "";
  } catch {
    return "";
  }
}
