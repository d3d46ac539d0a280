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
import type { SimGroup } from "./state.js";

export const COMPLIANCE_VERSION = "v2026.06.10";
const PHRASE_EN =
  "I have read, understood, and agree to the Sub2API Deployment and Operation Compliance Commitment";
const PHRASE_ZH = "我已阅读、理解并同意 Sub2API 部署与运营合规承诺";

export const complianceMetadata = {
  version: COMPLIANCE_VERSION,
  document_path_zh: "docs/legal/admin-compliance.zh.md",
  document_path_en: "docs/legal/admin-compliance.en.md",
  document_url_zh: "https://github.com/Wei-Shaw/sub2api/blob/main/docs/legal/admin-compliance.zh.md",
  document_url_en: "https://github.com/Wei-Shaw/sub2api/blob/main/docs/legal/admin-compliance.en.md",
};

export function registerSystem(sim: Sim) {
  const { profile, state, options } = sim;
  route(sim, "GET", "/health", (c) => c.json({ status: "ok" }));
  route(sim, "GET", "/setup/status", (c) =>
    c.json({ code: 0, data: { needs_setup: false, step: "completed" } }),
  );
  route(sim, "GET", "/api/v1/settings/public", (c) => {
    const base: Record<string, unknown> = {
      version: profile.version,
      site_name: "Sub2API (simulated)",
      registration_enabled: false,
      email_verify_enabled: false,
      turnstile_enabled: options.publicSettings.turnstileEnabled,
      tencent_captcha_enabled: options.publicSettings.captchaEnabled,
    };
    if (profile.compliance) {
      Object.assign(base, {
        totp_enabled: false,
        backend_mode_enabled: options.publicSettings.backendModeEnabled,
        payment_enabled: profile.paymentPlans && options.publicSettings.paymentEnabled,
        purchase_subscription_enabled: false,
        server_timezone: "Asia/Shanghai",
      });
    }
    return success(c, base);
  });
  route(sim, "GET", "/api/v1/admin/system/version", (c) => success(c, { version: profile.version }));

  if (profile.compliance) {
    const status = () => ({
      required: !state.complianceAcknowledged,
      ...complianceMetadata,
      ack_phrase_zh: PHRASE_ZH,
      ack_phrase_en: PHRASE_EN,
      ...(state.complianceAcknowledged
        ? {
            acknowledgement: {
              version: COMPLIANCE_VERSION,
              admin_user_id: state.firstAdmin().id,
              accepted_at: goTime(Date.now()),
            },
          }
        : {}),
    });
    route(sim, "GET", "/api/v1/admin/compliance", (c) => success(c, status()));
    route(sim, "POST", "/api/v1/admin/compliance/accept", async (c) => {
      const body = await readJson(c);
      if (typeof body === "string" || typeof body.phrase !== "string") {
        return badRequest(c, validationMessage("AcceptRequest", [{ field: "Phrase", tag: "required" }]));
      }
      const phrase = body.phrase.trim();
      if (phrase !== PHRASE_EN && phrase !== PHRASE_ZH) {
        return fail(c, 400, "acknowledgement phrase does not match", "ADMIN_COMPLIANCE_INVALID_PHRASE");
      }
      state.complianceAcknowledged = true;
      return success(c, status());
    });
  }
}

export function groupJson(g: SimGroup, sim: Sim) {
  const accounts = sim.state.liveAccounts().filter((a) => a.groupIds.includes(g.id));
  if (sim.options.simpleMode) {
    // simpleModeGroupResponse (groupForSimpleMode, group_handler.go@02c82a9a, index copy): no
    // subscription type, no limits.
    return {
      id: g.id,
      name: g.name,
      description: g.description,
      platform: g.platform,
      rate_multiplier: g.rateMultiplier,
      is_exclusive: g.isExclusive,
      status: g.status,
      account_count: accounts.length,
      active_account_count: accounts.filter((a) => a.status === "active").length,
      sort_order: 0,
      created_at: goTime(g.createdAt),
      updated_at: goTime(g.updatedAt),
    };
  }
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    platform: g.platform,
    rate_multiplier: g.rateMultiplier,
    is_exclusive: g.isExclusive,
    status: g.status,
    subscription_type: g.subscriptionType,
    daily_limit_usd: g.dailyLimitUsd,
    weekly_limit_usd: g.weeklyLimitUsd,
    monthly_limit_usd: g.monthlyLimitUsd,
    claude_code_only: false,
    fallback_group_id: null,
    model_routing: null,
    model_routing_enabled: false,
    account_count: accounts.length,
    active_account_count: accounts.filter((a) => a.status === "active").length,
    sort_order: 0,
    created_at: goTime(g.createdAt),
    updated_at: goTime(g.updatedAt),
  };
}

function limitField(value: unknown): number | null | undefined | "invalid" {
  if (value === undefined) return undefined;
  if (value === null || value === "") return null;
  if (typeof value === "number") return value;
  if (typeof value === "string" && !Number.isNaN(Number(value))) return Number(value);
  return "invalid";
}

export function registerGroups(sim: Sim) {
  const { profile, state } = sim;
  const BASE = "/api/v1/admin/groups";

  route(sim, "GET", BASE, (c) => {
    const p = pageParams(c, profile.maxPageSize);
    const platform = c.req.query("platform");
    const status = c.req.query("status");
    const search = profile.groupSearch ? c.req.query("search")?.toLowerCase() : undefined;
    const items = state
      .liveGroups()
      .filter((g) => (!platform || g.platform === platform) && (!status || g.status === status))
      .filter((g) => !search || g.name.toLowerCase().includes(search));
    const page = paginate(items, p);
    return success(c, { ...page, items: page.items.map((g) => groupJson(g, sim)) });
  });

  route(sim, "GET", `${BASE}/all`, (c) => {
    const includeInactive = c.req.query("include_inactive") === "true";
    const items = state.liveGroups().filter((g) => includeInactive || g.status === "active");
    return success(
      c,
      items.map((g) => groupJson(g, sim)),
    );
  });

  route(sim, "GET", `${BASE}/:id`, (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid group ID");
    const g = state.groups.get(id);
    if (!g || g.deletedAt) return fail(c, 404, "group not found", "GROUP_NOT_FOUND");
    return success(c, groupJson(g, sim));
  });

  route(sim, "POST", BASE, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const failures: { field: string; tag: string }[] = [];
    if (typeof body.name !== "string" || body.name === "") failures.push({ field: "Name", tag: "required" });
    const platform = typeof body.platform === "string" && body.platform !== "" ? body.platform : "anthropic";
    if (!profile.groupPlatforms.includes(platform)) failures.push({ field: "Platform", tag: "oneof" });
    const subType =
      typeof body.subscription_type === "string" && body.subscription_type !== ""
        ? body.subscription_type
        : "standard";
    if (subType !== "standard" && subType !== "subscription")
      failures.push({ field: "SubscriptionType", tag: "oneof" });
    if (failures.length > 0) return badRequest(c, validationMessage("CreateGroupRequest", failures));
    const limits = [body.daily_limit_usd, body.weekly_limit_usd, body.monthly_limit_usd].map(limitField);
    if (limits.includes("invalid")) return badRequest(c, "invalid limit value");
    const name = body.name as string;
    // sanitizeCreateGroupRequestForSimpleMode (group_handler.go@02c82a9a): standard, rate 1, no limits.
    const simple = sim.options.simpleMode;
    const clash = [...state.groups.values()].find(
      (g) => g.name === name && (profile.groupNameUniqueIncludesDeleted || !g.deletedAt),
    );
    if (clash) return fail(c, 409, "group name already exists", "GROUP_EXISTS");
    const now = Date.now();
    const group: SimGroup = {
      id: state.nextId("groups"),
      name,
      description: typeof body.description === "string" ? body.description : "",
      platform,
      rateMultiplier: simple ? 1 : typeof body.rate_multiplier === "number" ? body.rate_multiplier : 0,
      isExclusive: body.is_exclusive === true,
      status: "active",
      subscriptionType: simple ? "standard" : (subType as SimGroup["subscriptionType"]),
      dailyLimitUsd: simple ? null : ((limits[0] as number | null | undefined) ?? null),
      weeklyLimitUsd: simple ? null : ((limits[1] as number | null | undefined) ?? null),
      monthlyLimitUsd: simple ? null : ((limits[2] as number | null | undefined) ?? null),
      createdAt: now,
      updatedAt: now,
    };
    state.groups.set(group.id, group);
    return success(c, groupJson(group, sim));
  });

  route(sim, "PUT", `${BASE}/:id`, async (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid group ID");
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const g = state.groups.get(id);
    if (!g || g.deletedAt) return fail(c, 404, "group not found", "GROUP_NOT_FOUND");
    if (body.platform !== undefined && !profile.groupPlatforms.includes(String(body.platform))) {
      return badRequest(c, validationMessage("UpdateGroupRequest", [{ field: "Platform", tag: "oneof" }]));
    }
    if (body.status !== undefined && body.status !== "active" && body.status !== "inactive") {
      return badRequest(c, validationMessage("UpdateGroupRequest", [{ field: "Status", tag: "oneof" }]));
    }
    if (typeof body.name === "string" && body.name !== "") g.name = body.name;
    if (typeof body.description === "string") g.description = body.description;
    if (typeof body.platform === "string" && body.platform !== "") g.platform = body.platform;
    if (typeof body.status === "string") g.status = body.status as SimGroup["status"];
    if (body.subscription_type === "standard" || body.subscription_type === "subscription")
      g.subscriptionType = body.subscription_type;
    if (typeof body.is_exclusive === "boolean") g.isExclusive = body.is_exclusive;
    if (typeof body.rate_multiplier === "number") g.rateMultiplier = body.rate_multiplier;
    g.updatedAt = Date.now();
    return success(c, groupJson(g, sim));
  });

  route(sim, "DELETE", `${BASE}/:id`, (c: Ctx) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid group ID");
    const g = state.groups.get(id);
    if (!g || g.deletedAt) return fail(c, 404, "group not found", "GROUP_NOT_FOUND");
    state.deleteGroupCascade(g, Date.now(), sim.profile.groupSoftDelete);
    return success(c, { message: "Group deleted successfully" });
  });
}
