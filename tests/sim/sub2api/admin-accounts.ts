import { type Ctx, route, type Sim } from "./context.js";
import {
  badRequest,
  fail,
  goTime,
  pageParams,
  paginate,
  parseId,
  readJson,
  success,
  validationMessage,
} from "./gin.js";
import { upstreamUrl } from "./routing.js";
import type { SimAccount } from "./state.js";
import { allowlistError } from "./upstream.js";

const SENSITIVE = new Set([
  "api_key",
  "access_token",
  "refresh_token",
  "id_token",
  "session_key",
  "cookie",
  "private_key",
]);
const DEFAULT_TEST_MODEL = "gpt-4o-mini";
/**
 * Platforms whose upstream model list the host can read (`service/upstream_models.go:112-117@67380eafd`:
 * OpenAI-compatible and the CN platforms); any other is 400 "Unsupported platform for upstream
 * model sync: <p>". The review read openai and the CN platforms; the rest of the list is not modelled.
 */
const MODEL_SYNC_PLATFORMS = ["openai", "grok", "kimi", "zhipu", "deepseek", "minimax"];

export function accountJson(a: SimAccount, sim: Sim) {
  let credentials: Record<string, unknown> = { ...a.credentials };
  const extra: Record<string, unknown> = {};
  if (sim.profile.credentialsRedacted) {
    const status: Record<string, boolean> = {};
    credentials = {};
    for (const [k, v] of Object.entries(a.credentials)) {
      if (SENSITIVE.has(k)) status[`has_${k}`] = true;
      else credentials[k] = v;
    }
    extra.credentials_status = status;
  }
  return {
    id: a.id,
    name: a.name,
    ...(sim.profile.credentialsRedacted ? { notes: a.notes } : {}),
    platform: a.platform,
    type: a.type,
    credentials,
    ...extra,
    extra: a.extra,
    proxy_id: null,
    concurrency: a.concurrency,
    priority: a.priority,
    rate_multiplier: 1,
    status: a.status,
    error_message: a.errorMessage,
    schedulable: a.schedulable,
    ...(sim.profile.idempotency
      ? {
          rate_limited_at: optTime(a.rateLimitedAt),
          rate_limit_reset_at: optTime(a.rateLimitResetAt),
          overload_until: optTime(a.overloadUntil),
          temp_unschedulable_until: optTime(a.tempUnschedulableUntil),
          temp_unschedulable_reason: a.tempUnschedulableReason ?? "",
        }
      : {}),
    group_ids: a.groupIds,
    groups: a.groupIds.map((id) => ({ id, name: sim.state.groups.get(id)?.name ?? "" })),
    current_concurrency: 0,
    created_at: goTime(a.createdAt),
    updated_at: goTime(a.updatedAt),
  };
}

const optTime = (ms: number | undefined) => (ms === undefined ? null : goTime(ms));

/** Whether the scheduler skips the account now for a runtime pause (temp-unschedulable, rate limit, overload). */
export function paused(a: SimAccount, now = Date.now()): boolean {
  return [a.tempUnschedulableUntil, a.rateLimitResetAt, a.overloadUntil].some(
    (t) => t !== undefined && t > now,
  );
}

/**
 * One run of `CNProviderBalanceCheckService` (cn_provider_balance_check_service.go:22-29,213-234
 * @67380eafd): a kimi/deepseek pay-as-you-go account whose upstream balance is low is set
 * temp-unschedulable; `status` and `schedulable` stay as they are.
 */
export function runBalanceCheck(sim: Sim, now = Date.now()) {
  for (const a of sim.state.liveAccounts()) {
    if (a.platform !== "kimi" && a.platform !== "deepseek") continue;
    if (a.credentials.account_mode === "coding") continue;
    if (!sim.upstream.lowBalance.has(String(a.credentials.api_key ?? ""))) continue;
    a.tempUnschedulableUntil = now + 30 * 60_000;
    a.tempUnschedulableReason = "cn provider balance below threshold";
  }
}

type CreateResult =
  | { ok: true; account: SimAccount }
  | { ok: false; status: number; message: string; reason?: string };

/** The account service's create rules (contract §7.1–7.2). */
export function createAccount(sim: Sim, body: Record<string, unknown>): CreateResult {
  const { state, profile } = sim;
  const failures: { field: string; tag: string }[] = [];
  if (typeof body.name !== "string" || body.name === "") failures.push({ field: "Name", tag: "required" });
  if (typeof body.platform !== "string" || body.platform === "")
    failures.push({ field: "Platform", tag: "required" });
  if (typeof body.type !== "string" || body.type === "") failures.push({ field: "Type", tag: "required" });
  if (typeof body.credentials !== "object" || body.credentials === null)
    failures.push({ field: "Credentials", tag: "required" });
  if (failures.length > 0) {
    return {
      ok: false,
      status: 400,
      message: `Invalid request: ${validationMessage("CreateAccountRequest", failures)}`,
    };
  }
  // CreateAccountRequest binds platform as `required` only (account_handler.go:69-79 @d3e73f1):
  // no platform list, no group check, no platform binding check. Group ids are bound after the
  // account is stored; an unknown one violates account_groups' foreign key (001_init.sql:106-108)
  // and the handler answers 500 — on Dec 2025 builds with the account already made.
  const platform = body.platform as string;
  let groupIds = Array.isArray(body.group_ids)
    ? (body.group_ids as unknown[]).filter((x): x is number => typeof x === "number")
    : [];
  const unknownGroup = groupIds.some((gid) => {
    const g = state.groups.get(gid);
    return !g || g.deletedAt;
  });
  if (unknownGroup && profile.idempotency) {
    return { ok: false, status: 500, message: "internal error" };
  }
  if (groupIds.length === 0) {
    const fallback = state.liveGroups().find((g) => g.name === `${platform}-default`);
    if (fallback) groupIds = [fallback.id];
  }
  const now = Date.now();
  const account: SimAccount = {
    id: state.nextId("accounts"),
    name: body.name as string,
    notes: profile.accountNotes && typeof body.notes === "string" ? body.notes : "",
    platform,
    type: body.type as string,
    credentials: { ...(body.credentials as Record<string, unknown>) },
    extra:
      typeof body.extra === "object" && body.extra !== null
        ? { ...(body.extra as Record<string, unknown>) }
        : {},
    // 2026 builds default an omitted concurrency to 3 and priority to 50; Dec 2025 binds Go's zero.
    concurrency: typeof body.concurrency === "number" ? body.concurrency : profile.idempotency ? 3 : 0,
    priority: typeof body.priority === "number" ? body.priority : profile.idempotency ? 50 : 0,
    status: "active",
    schedulable: true,
    errorMessage: "",
    groupIds: groupIds.filter(
      (gid) => state.groups.get(gid)?.deletedAt === undefined && state.groups.has(gid),
    ),
    createdAt: now,
    updatedAt: now,
  };
  state.accounts.set(account.id, account);
  if (unknownGroup) return { ok: false, status: 500, message: "internal error" };
  return { ok: true, account };
}

function findLive(sim: Sim, c: Ctx): SimAccount | "bad" | undefined {
  const id = parseId(c.req.param("id") ?? "");
  if (id === undefined) return "bad";
  const a = sim.state.accounts.get(id);
  return a && !a.deletedAt ? a : undefined;
}

export function registerAccounts(
  sim: Sim,
  idempotent: (handler: (c: Ctx) => Promise<Response>) => (c: Ctx) => Promise<Response>,
) {
  const { profile, state, upstream } = sim;
  const BASE = "/api/v1/admin/accounts";

  route(sim, "GET", BASE, (c) => {
    const p = pageParams(c, profile.maxPageSize);
    const q = (k: string) => c.req.query(k);
    const group = profile.accountGroupFilter ? q("group") : undefined;
    if (group !== undefined && group !== "ungrouped" && !/^\d+$/.test(group)) {
      return fail(c, 400, "invalid group filter", "INVALID_GROUP_FILTER");
    }
    const search = q("search")?.toLowerCase();
    const items = state
      .liveAccounts()
      .filter(
        (a) => (!q("platform") || a.platform === q("platform")) && (!q("status") || a.status === q("status")),
      )
      .filter((a) => !search || a.name.toLowerCase().includes(search))
      .filter((a) =>
        group === undefined
          ? true
          : group === "ungrouped"
            ? a.groupIds.length === 0
            : a.groupIds.includes(Number(group)),
      );
    const page = paginate(items, p);
    c.header("ETag", `W/"${state.accounts.size}-${items.length}"`);
    return success(c, { ...page, items: page.items.map((a) => accountJson(a, sim)) });
  });

  route(sim, "GET", `${BASE}/:id`, (c) => {
    const a = findLive(sim, c);
    if (a === "bad") return badRequest(c, "Invalid account ID");
    if (!a) return fail(c, 404, "Account not found", "ACCOUNT_NOT_FOUND");
    return success(c, accountJson(a, sim));
  });

  route(
    sim,
    "POST",
    BASE,
    idempotent(async (c) => {
      const body = await readJson(c);
      if (typeof body === "string") return badRequest(c, body);
      const r = createAccount(sim, body);
      if (!r.ok) return fail(c, r.status, r.message, r.reason);
      return success(c, accountJson(r.account, sim));
    }),
  );

  route(
    sim,
    "POST",
    `${BASE}/batch`,
    idempotent(async (c) => {
      const body = await readJson(c);
      if (typeof body === "string") return badRequest(c, body);
      const list = Array.isArray(body.accounts) ? body.accounts : undefined;
      if (!list || list.length === 0) {
        return badRequest(
          c,
          validationMessage("BatchCreateAccountsRequest", [
            { field: "Accounts", tag: list ? "min" : "required" },
          ]),
        );
      }
      if (!profile.batchCreateReal) {
        // Dec 2025 placeholder: validates, answers success for every item, creates nothing.
        return success(c, { success: list.length, failed: 0, results: [] });
      }
      const results = list.map((item: unknown) => {
        const name =
          typeof item === "object" && item !== null ? String((item as { name?: unknown }).name ?? "") : "";
        const r =
          typeof item === "object" && item !== null
            ? createAccount(sim, item as Record<string, unknown>)
            : undefined;
        if (r?.ok) return { name, success: true, id: r.account.id };
        return { name, success: false, error: r ? r.message : "invalid account" };
      });
      const ok = results.filter((r: { success: boolean }) => r.success).length;
      return success(c, { success: ok, failed: results.length - ok, results });
    }),
  );

  // account_handler.go:95-106,560-599 and admin_service.go:681-731 @d3e73f1: group bindings are
  // set account by account and reported per account. 2026 builds check every group id first
  // (validateGroupIDsExist, admin_account.go:913-917@67380eafd): one unknown group fails the
  // whole call 404 GROUP_NOT_FOUND before any binding; BindGroups replaces an account's groups
  // (account_repo.go:1811-1840@67380eafd).
  route(sim, "POST", `${BASE}/bulk-update`, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const ids = Array.isArray(body.account_ids)
      ? body.account_ids.filter((x: unknown): x is number => typeof x === "number")
      : [];
    if (ids.length === 0) {
      return badRequest(
        c,
        validationMessage("BulkUpdateAccountsRequest", [{ field: "AccountIDs", tag: "required" }]),
      );
    }
    if (!Array.isArray(body.group_ids)) return badRequest(c, "No updates provided");
    const groupIds = body.group_ids.filter((x: unknown): x is number => typeof x === "number");
    const unknownGroup = groupIds.find((g: number) => !state.groups.has(g) || state.groups.get(g)?.deletedAt);
    if (profile.idempotency && unknownGroup !== undefined)
      return fail(c, 404, `group ${unknownGroup} not found`, "GROUP_NOT_FOUND");
    const results = ids.map((id: number) => {
      const a = state.accounts.get(id);
      if (!a || a.deletedAt) return { account_id: id, success: false, error: "record not found" };
      if (groupIds.some((g: number) => !state.groups.has(g) || state.groups.get(g)?.deletedAt)) {
        return { account_id: id, success: false, error: "violates foreign key constraint" };
      }
      a.groupIds = [...groupIds];
      return { account_id: id, success: true };
    });
    const ok = results.filter((r: { success: boolean }) => r.success).length;
    return success(c, { success: ok, failed: results.length - ok, results });
  });

  route(sim, "PUT", `${BASE}/:id`, async (c) => {
    const a = findLive(sim, c);
    if (a === "bad") return badRequest(c, "Invalid account ID");
    if (!a) return fail(c, 404, "Account not found", "ACCOUNT_NOT_FOUND");
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    if (Array.isArray(body.group_ids)) {
      const ids = (body.group_ids as unknown[]).filter((x): x is number => typeof x === "number");
      for (const gid of ids) {
        const g = state.groups.get(gid);
        // Group existence only: no platform check (admin_account.go:783-795,1428-1530@67380eafd;
        // the mixed-channel 409 is for anthropic/antigravity, which relay never uses).
        if (!g || g.deletedAt) return fail(c, 404, `group ${gid} not found`, "GROUP_NOT_FOUND");
      }
      a.groupIds = ids;
    }
    // MergePreservingSensitiveCreds, only for a non-empty map (service/admin_account.go:604-608,
    // account_credentials_redact.go:38-52 @67380eafd): an omitted sensitive key is kept, an
    // omitted non-sensitive key is dropped.
    if (
      typeof body.credentials === "object" &&
      body.credentials !== null &&
      Object.keys(body.credentials).length > 0
    ) {
      const incoming = body.credentials as Record<string, unknown>;
      const kept = Object.fromEntries(Object.entries(a.credentials).filter(([k]) => SENSITIVE.has(k)));
      a.credentials = { ...kept, ...incoming };
    }
    if (typeof body.name === "string" && body.name !== "") a.name = body.name;
    if (sim.profile.accountNotes && typeof body.notes === "string") a.notes = body.notes;
    if (typeof body.priority === "number") a.priority = body.priority;
    if (typeof body.concurrency === "number") a.concurrency = body.concurrency;
    if (body.status === "active" || body.status === "inactive" || body.status === "error")
      a.status = body.status;
    if (typeof body.extra === "object" && body.extra !== null)
      a.extra = { ...(body.extra as Record<string, unknown>) };
    a.updatedAt = Date.now();
    return success(c, accountJson(a, sim));
  });

  // POST /:id/schedulable {schedulable} (routes/admin.go:393, handler/admin/account_handler.go:2533-2560,
  // repository/account_repo.go:2497-2511 @67380eafd; routes/admin.go:115@d3e73f1): the one column,
  // then the account as GetByID reads it; an unknown id is not found.
  route(sim, "POST", `${BASE}/:id/schedulable`, async (c) => {
    const a = findLive(sim, c);
    if (a === "bad") return badRequest(c, "Invalid account ID");
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, `Invalid request: ${body}`);
    if (!a) return fail(c, 404, "Account not found", "ACCOUNT_NOT_FOUND");
    a.schedulable = body.schedulable === true;
    a.updatedAt = Date.now();
    return success(c, accountJson(a, sim));
  });

  route(sim, "DELETE", `${BASE}/:id`, (c) => {
    const a = findLive(sim, c);
    if (a === "bad") return badRequest(c, "Invalid account ID");
    // Deleting a missing row is no error on any build: GORM's Delete at d3e73f1
    // (account_repo.go:67-72) and a delete by predicate in 2026 (account_handler.go:1048-1062,
    // account_repo.go:866-905@67380eafd), so an unknown id answers 200 like a real delete.
    if (!a) return success(c, { message: "Account deleted successfully" });
    a.deletedAt = Date.now();
    a.groupIds = [];
    return success(c, { message: "Account deleted successfully" });
  });

  if (profile.batchDelete) {
    route(sim, "POST", `${BASE}/batch-delete`, async (c) => {
      const body = await readJson(c);
      const raw = typeof body === "string" ? [] : Array.isArray(body.account_ids) ? body.account_ids : [];
      const ids = [...new Set(raw.filter((x: unknown): x is number => typeof x === "number"))];
      if (ids.length === 0) return badRequest(c, "account_ids is required");
      const successIds: number[] = [];
      const failedIds: number[] = [];
      const errors: { account_id: number; error: string }[] = [];
      for (const id of ids) {
        const a = state.accounts.get(id);
        if (!a || a.deletedAt) {
          failedIds.push(id);
          errors.push({ account_id: id, error: "account not found" });
          continue;
        }
        a.deletedAt = Date.now();
        a.groupIds = [];
        successIds.push(id);
      }
      successIds.sort((x, y) => x - y);
      return success(c, {
        total: ids.length,
        success: successIds.length,
        failed: failedIds.length,
        success_ids: successIds,
        failed_ids: failedIds,
        errors,
      });
    });
  }

  route(sim, "POST", `${BASE}/:id/test`, async (c) => {
    const a = findLive(sim, c);
    if (a === "bad") return badRequest(c, "Invalid account ID");
    const body = await readJson(c);
    const requested =
      typeof body === "object" && typeof body.model_id === "string" && body.model_id !== ""
        ? body.model_id
        : DEFAULT_TEST_MODEL;
    // The events of sub2api's SSE test, written as one body: the fake upstream answers at once,
    // so the client reads the same stream of events (and the simulator spends no web-stream
    // machinery per test, which at 16 tests in flight made it slower than the latency it models).
    const events: Record<string, unknown>[] = [];
    const run = (): void => {
      if (!a) return void events.push({ type: "error", error: "Account not found" });
      const mapping = (a.credentials.model_mapping ?? {}) as Record<string, string>;
      const model = mapping[requested] ?? requested;
      events.push({ type: "test_start", model });
      const apiKey = typeof a.credentials.api_key === "string" ? a.credentials.api_key : "";
      if (!apiKey) return void events.push({ type: "error", error: "No API key available" });
      const baseUrl = typeof a.credentials.base_url === "string" ? a.credentials.base_url : "";
      if (!/^https?:\/\//.test(baseUrl))
        return void events.push({ type: "error", error: `Invalid base URL: ${baseUrl}` });
      // account_test_service.go:332-336@67380eafd: "Invalid base URL: <validator error>".
      const disallowed = allowlistError(sim.options.urlAllowlist, baseUrl);
      if (disallowed) return void events.push({ type: "error", error: `Invalid base URL: ${disallowed}` });
      const url = upstreamUrl(profile, a, "test");
      const r = upstream.post(url, apiKey, model);
      if (!r.ok && r.status === 200) {
        // A refusal under HTTP 200 (MiniMax's base_resp) is plain JSON, not SSE: the test reads no
        // `data:` line and says only this (processOpenAIChatCompletionsStream,
        // account_test_service.go:2706-2724@67380eafd); the provider's code is not relayed.
        const text = "Invalid Chat Completions response from /v1/chat/completions: expected SSE JSON data";
        return void events.push({ type: "error", error: text });
      }
      if (!r.ok) {
        // The chat test names its endpoint (account_test_service.go:2005-2009@67380eafd).
        const text = url.endsWith("/chat/completions")
          ? `Chat Completions API (/v1/chat/completions) returned ${r.status}: ${r.body}`
          : `API returned ${r.status}: ${r.body}`;
        if (r.status === 401) {
          // SetError on a 401: status=error; from 0.1.130 the account is also taken out of
          // scheduling, and a later passing test does not put it back.
          a.status = "error";
          a.errorMessage = text;
          if (profile.testErrorUnschedules) a.schedulable = false;
        }
        return void events.push({ type: "error", error: text });
      }
      // RecoverAccountAfterSuccessfulTest (account_handler.go:1113-1117@67380eafd): status only.
      a.status = "active";
      a.errorMessage = "";
      events.push({ type: "content", text: r.content }, { type: "test_complete", success: true });
    };
    run();
    return c.body(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(""), 200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
    });
  });

  route(sim, "GET", `${BASE}/:id/models`, (c) => {
    const a = findLive(sim, c);
    if (a === "bad") return badRequest(c, "Invalid account ID");
    if (!a) return fail(c, 404, "Account not found");
    const mapping = (a.credentials.model_mapping ?? {}) as Record<string, string>;
    const ids =
      Object.keys(mapping).length > 0 ? Object.keys(mapping) : ["claude-sonnet-4-5", "claude-haiku-4-5"];
    return success(
      c,
      ids.map((id) => ({ id, type: "model", display_name: id, created_at: "2026-01-01T00:00:00Z" })),
    );
  });

  if (profile.modelsPreview) {
    // account_handler.go SyncUpstreamModelsPreview: platform, type and api_key are required; a
    // temporary account lists its upstream's models; nothing is stored.
    route(sim, "POST", `${BASE}/models/sync-upstream-preview`, async (c) => {
      const body = await readJson(c);
      if (typeof body === "string") return badRequest(c, body);
      const required: [string, string][] = [
        ["Platform", "platform"],
        ["Type", "type"],
        ["APIKey", "api_key"],
      ];
      const failures = required
        .filter(([, json]) => typeof body[json] !== "string" || body[json] === "")
        .map(([field]) => ({ field, tag: "required" }));
      if (failures.length > 0) return badRequest(c, validationMessage("", failures));
      const platform = String(body.platform);
      if (!MODEL_SYNC_PLATFORMS.includes(platform))
        return fail(c, 400, `Unsupported platform for upstream model sync: ${platform}`);
      // The model list goes through the same base-URL validation as the account test; its
      // refusal is a configuration error: 400 "Invalid OpenAI base URL", with no reason, for the
      // openai and deepseek platforms (seen live on 67380eafd with the allowlist on, 2026-12-02,
      // for http://127.0.0.1 and for https://api.deepseek.com alike).
      const disallowed = allowlistError(sim.options.urlAllowlist, String(body.base_url ?? ""));
      if (disallowed) return fail(c, 400, "Invalid OpenAI base URL");
      // A non-2xx listing is 502 with its status only; the body is dropped
      // (upstream_models.go:112-116, account_handler.go:2821-2832@67380eafd).
      const listed = upstream.listStatus(String(body.base_url ?? ""), String(body.api_key));
      if (listed !== 200) return fail(c, 502, `Upstream model list request failed with HTTP ${listed}`);
      const models = upstream.models(String(body.base_url ?? ""));
      if (!models) return fail(c, 400, "upstream model listing is not supported for this account");
      return success(c, { models });
    });
  }

  if (profile.modelsSync) {
    route(sim, "POST", `${BASE}/:id/models/sync-upstream`, (c) => {
      const a = findLive(sim, c);
      if (a === "bad") return badRequest(c, "Invalid account ID");
      if (!a) return fail(c, 404, "Account not found");
      const baseUrl = String(a.credentials.base_url ?? "");
      if (!MODEL_SYNC_PLATFORMS.includes(a.platform))
        return fail(c, 400, `Unsupported platform for upstream model sync: ${a.platform}`);
      const disallowed = allowlistError(sim.options.urlAllowlist, baseUrl);
      if (disallowed) return fail(c, 400, `Invalid base URL: ${disallowed}`);
      const listed = upstream.listStatus(baseUrl, String(a.credentials.api_key ?? ""));
      if (listed !== 200) return fail(c, 502, `Upstream model list request failed with HTTP ${listed}`);
      const models = upstream.models(baseUrl);
      if (!models) return fail(c, 400, "upstream model listing is not supported for this account");
      a.syncedModels = models;
      return success(c, { models, synced_at: goTime(Date.now()) });
    });
  }
}
