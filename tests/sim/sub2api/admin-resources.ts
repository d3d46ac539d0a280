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
import type { SimChannel, SimPlan, SimSubscription, SimUser } from "./state.js";
import { keyJson } from "./user-api.js";

const DAY = 86_400_000;

/** Channel timestamps carry a literal Z without UTC conversion (contract §5.3). */
function channelTime(ms: number) {
  return `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}Z`;
}

function channelJson(ch: SimChannel) {
  return {
    id: ch.id,
    name: ch.name,
    description: ch.description,
    status: ch.status,
    billing_model_source: "requested",
    restrict_models: ch.restrictModels,
    features: "",
    group_ids: ch.groupIds,
    model_pricing: ch.modelPricing.map((p) => ({
      ...p,
      cache_write_price: 0,
      cache_read_price: 0,
      intervals: [],
    })),
    model_mapping: ch.modelMapping,
    apply_pricing_to_account_stats: false,
    account_stats_pricing_rules: [],
    created_at: channelTime(ch.createdAt),
    updated_at: channelTime(ch.updatedAt),
  };
}

export function registerChannels(sim: Sim) {
  const { state, profile } = sim;
  if (!profile.channels) return;
  const BASE = "/api/v1/admin/channels";

  const parsePricing = (raw: unknown): SimChannel["modelPricing"] | string => {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) return "model_pricing must be an array";
    const out: SimChannel["modelPricing"] = [];
    for (const p of raw) {
      if (typeof p !== "object" || p === null) return "invalid pricing entry";
      const e = p as Record<string, unknown>;
      const models = Array.isArray(e.models)
        ? e.models.filter((m): m is string => typeof m === "string")
        : [];
      if (models.length < 1 || models.length > 100) return "models must have 1..100 entries";
      const input = typeof e.input_price === "number" ? e.input_price : 0;
      const output = typeof e.output_price === "number" ? e.output_price : 0;
      if (input < 0 || output < 0) return "NEGATIVE_PRICE";
      out.push({
        id: state.nextId("pricing"),
        platform: typeof e.platform === "string" && e.platform !== "" ? e.platform : "anthropic",
        models,
        billing_mode: typeof e.billing_mode === "string" ? e.billing_mode : "token",
        input_price: input,
        output_price: output,
      });
    }
    return out;
  };

  const checkGroups = (c: Ctx, ids: number[], self?: number) => {
    for (const gid of ids) {
      const taken = [...state.channels.values()].find((ch) => ch.id !== self && ch.groupIds.includes(gid));
      if (taken)
        return fail(
          c,
          409,
          `group ${gid} already belongs to channel ${taken.name}`,
          "GROUP_ALREADY_IN_CHANNEL",
        );
    }
    return undefined;
  };

  route(sim, "GET", BASE, (c) => {
    const search = c.req.query("search")?.toLowerCase();
    const items = [...state.channels.values()].filter(
      (ch) => !search || ch.name.toLowerCase().includes(search),
    );
    const page = paginate(items, pageParams(c, profile.maxPageSize));
    return success(c, { ...page, items: page.items.map(channelJson) });
  });

  route(sim, "GET", `${BASE}/:id`, (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return fail(c, 400, "invalid channel id", "INVALID_CHANNEL_ID");
    const ch = state.channels.get(id);
    return ch ? success(c, channelJson(ch)) : fail(c, 404, "channel not found", "CHANNEL_NOT_FOUND");
  });

  route(sim, "POST", BASE, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return fail(c, 400, body, "VALIDATION_ERROR");
    if (typeof body.name !== "string" || body.name === "" || body.name.length > 100) {
      return fail(
        c,
        400,
        validationMessage("CreateChannelRequest", [{ field: "Name", tag: "required" }]),
        "VALIDATION_ERROR",
      );
    }
    if ([...state.channels.values()].some((ch) => ch.name === body.name))
      return fail(c, 409, "channel name exists", "CHANNEL_EXISTS");
    const pricing = parsePricing(body.model_pricing);
    if (typeof pricing === "string") {
      return pricing === "NEGATIVE_PRICE"
        ? fail(c, 400, "price must be >= 0", "NEGATIVE_PRICE")
        : fail(c, 400, pricing, "VALIDATION_ERROR");
    }
    const mapping = parseChannelMapping(body.model_mapping, "createChannelRequest");
    if (typeof mapping === "string") return fail(c, 400, mapping, "VALIDATION_ERROR");
    const groupIds = Array.isArray(body.group_ids)
      ? body.group_ids.filter((x): x is number => typeof x === "number")
      : [];
    const clash = checkGroups(c, groupIds);
    if (clash) return clash;
    const now = Date.now();
    const ch: SimChannel = {
      id: state.nextId("channels"),
      name: body.name,
      description: typeof body.description === "string" ? body.description : "",
      status: "active",
      groupIds,
      modelPricing: pricing,
      modelMapping: mapping ?? {},
      restrictModels: body.restrict_models === true,
      createdAt: now,
      updatedAt: now,
    };
    state.channels.set(ch.id, ch);
    return success(c, channelJson(ch));
  });

  route(sim, "PUT", `${BASE}/:id`, async (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return fail(c, 400, "invalid channel id", "INVALID_CHANNEL_ID");
    const ch = state.channels.get(id);
    if (!ch) return fail(c, 404, "channel not found", "CHANNEL_NOT_FOUND");
    const body = await readJson(c);
    if (typeof body === "string") return fail(c, 400, body, "VALIDATION_ERROR");
    const mapping = parseChannelMapping(body.model_mapping, "updateChannelRequest");
    if (typeof mapping === "string") return fail(c, 400, mapping, "VALIDATION_ERROR");
    if (mapping) ch.modelMapping = mapping;
    if (Array.isArray(body.group_ids)) {
      const ids = body.group_ids.filter((x): x is number => typeof x === "number");
      const clash = checkGroups(c, ids, ch.id);
      if (clash) return clash;
      ch.groupIds = ids;
    }
    if (body.model_pricing !== undefined) {
      const pricing = parsePricing(body.model_pricing);
      if (typeof pricing === "string") return fail(c, 400, pricing, "VALIDATION_ERROR");
      ch.modelPricing = pricing;
    }
    if (body.status === "active" || body.status === "disabled") ch.status = body.status;
    if (typeof body.description === "string") ch.description = body.description;
    // updateChannelRequest.ModelMapping is a plain map (channel_handler.go:44-57@67380eafd): present
    // (even `{}`) it replaces the whole mapping, absent it keeps it (applyUpdateInput,
    // channel_service.go:907-909); every other field omitted is kept as well.
    if (typeof body.model_mapping === "object" && body.model_mapping !== null)
      ch.modelMapping = structuredClone(body.model_mapping) as SimChannel["modelMapping"];
    ch.updatedAt = Date.now();
    return success(c, channelJson(ch));
  });

  route(sim, "DELETE", `${BASE}/:id`, (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return fail(c, 400, "invalid channel id", "INVALID_CHANNEL_ID");
    if (!state.channels.delete(id)) return fail(c, 404, "channel not found", "CHANNEL_NOT_FOUND");
    return success(c, { message: "Channel deleted successfully" });
  });
}

/** ent JSON: omitempty drops zero values (contract §6.2). */
function planJson(p: SimPlan) {
  const raw: Record<string, unknown> = {
    id: p.id,
    group_id: p.groupId,
    name: p.name,
    description: p.description,
    price: p.price,
    currency: p.currency,
    validity_days: p.validityDays,
    validity_unit: p.validityUnit,
    for_sale: p.forSale,
    sort_order: 0,
    created_at: goTime(p.createdAt),
    updated_at: goTime(p.updatedAt),
    edges: {},
  };
  return Object.fromEntries(
    Object.entries(raw).filter(([, v]) => v !== undefined && v !== "" && v !== 0 && v !== false),
  );
}

export function registerPlans(sim: Sim) {
  const { state, profile } = sim;
  if (!profile.paymentPlans) return;
  const BASE = "/api/v1/admin/payment/plans";
  route(sim, "GET", BASE, (c) => success(c, [...state.plans.values()].map(planJson)));
  route(sim, "POST", BASE, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    // validatePlanRequired (payment config service): name, group, price, validity, unit, in order.
    const name = typeof body.name === "string" ? body.name.trim() : "";
    if (name === "") return fail(c, 400, "plan name is required", "PLAN_NAME_REQUIRED");
    const groupId = typeof body.group_id === "number" ? body.group_id : 0;
    if (groupId <= 0) return fail(c, 400, "group is required", "PLAN_GROUP_REQUIRED");
    const price = typeof body.price === "number" ? body.price : 0;
    if (!(price > 0)) return fail(c, 400, "price must be > 0", "PLAN_PRICE_INVALID");
    const days = typeof body.validity_days === "number" ? body.validity_days : 0;
    if (!(days > 0)) return fail(c, 400, "validity days must be > 0", "PLAN_VALIDITY_REQUIRED");
    // Only a non-empty unit is required (payment_config_plans.go:15-49@67380eafd).
    const unit = typeof body.validity_unit === "string" ? body.validity_unit.trim() : "";
    if (unit === "") return fail(c, 400, "validity unit is required", "PLAN_VALIDITY_UNIT_REQUIRED");
    // Currency is a display label: trimmed and upper-cased, empty kept empty, otherwise three
    // ISO letters (payment_config_service.go:165-178, payment_config_plans.go:135-152@67380eafd).
    const currency = typeof body.currency === "string" ? body.currency.trim().toUpperCase() : "";
    if (currency !== "" && !/^[A-Z]{3}$/.test(currency))
      return fail(c, 400, "currency must be a 3-letter ISO code", "PLAN_CURRENCY_INVALID");
    const g = state.groups.get(groupId);
    if (!g || g.deletedAt) return fail(c, 500, "internal error");
    const now = Date.now();
    const plan: SimPlan = {
      id: state.nextId("plans"),
      groupId,
      name,
      description: typeof body.description === "string" ? body.description : "",
      price,
      ...(currency !== "" ? { currency } : {}),
      validityDays: days,
      validityUnit: unit,
      forSale: body.for_sale === true,
      createdAt: now,
      updatedAt: now,
    };
    state.plans.set(plan.id, plan);
    return success(c, planJson(plan), 201);
  });
  route(sim, "DELETE", `${BASE}/:id`, (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid plan ID");
    // An unknown plan is not a 404: ent's not-found error reaches the handler unmapped and is
    // answered as an internal error (issue #13's reading of the payment admin handler).
    if (!state.plans.delete(id)) return fail(c, 500, "internal error");
    return success(c, { message: "deleted" });
  });
}

function subscriptionJson(s: SimSubscription) {
  return {
    id: s.id,
    user_id: s.userId,
    group_id: s.groupId,
    starts_at: goTime(s.startsAt),
    expires_at: goTime(s.expiresAt),
    status: s.status,
    daily_usage_usd: 0,
    weekly_usage_usd: 0,
    monthly_usage_usd: 0,
    assigned_by: s.assignedBy,
    assigned_at: goTime(s.createdAt),
    notes: s.notes,
    created_at: goTime(s.createdAt),
    updated_at: goTime(s.updatedAt),
    ...(s.revokedAt === undefined ? {} : { revoked_at: goTime(s.revokedAt) }),
  };
}

/**
 * The admin list's `status` filter (repository/user_subscription_repo.go:238-288@2bc139ab5, the same
 * at 67380eafd and 9a2f11b4e): none lists every row INCLUDING the revoked (soft-deleted) ones
 * (`SkipSoftDelete`, :241,:279-288); `active` is status active and not yet expired; `expired` also
 * takes active rows past their end; `revoked` only the soft-deleted; every filter but none/revoked
 * leaves the soft-deleted out.
 */
function statusMatches(s: SimSubscription, status: string | undefined, now: number): boolean {
  if (!status) return true;
  if (status === "revoked") return s.status === "revoked";
  if (s.status === "revoked") return false;
  if (status === "active") return s.status === "active" && s.expiresAt > now;
  if (status === "expired") return s.status === "expired" || (s.status === "active" && s.expiresAt <= now);
  return s.status === status;
}

type AssignResult =
  | { ok: true; sub: SimSubscription; reused: boolean }
  | { ok: false; status: number; message: string; reason: string; metadata?: Record<string, string> };

export function assignSubscription(
  sim: Sim,
  userId: number,
  groupId: number,
  validityDays: number,
  notes: string,
): AssignResult {
  const { state, profile } = sim;
  const user = state.users.get(userId);
  if (!user || user.deletedAt)
    return { ok: false, status: 404, message: "user not found", reason: "USER_NOT_FOUND" };
  const g = state.groups.get(groupId);
  if (!g || g.deletedAt)
    return { ok: false, status: 404, message: "group not found", reason: "GROUP_NOT_FOUND" };
  if (g.subscriptionType !== "subscription") {
    return {
      ok: false,
      status: 400,
      message: "group is not a subscription group",
      reason: "GROUP_NOT_SUBSCRIPTION_TYPE",
    };
  }
  const days = validityDays <= 0 ? 30 : Math.min(validityDays, 36500);
  const existing = [...state.subscriptions.values()].find(
    (s) => s.userId === userId && s.groupId === groupId && s.status !== "revoked",
  );
  if (existing) {
    if (!profile.assignIdempotent) {
      return {
        ok: false,
        status: 409,
        message: "subscription already exists",
        reason: "SUBSCRIPTION_ALREADY_EXISTS",
      };
    }
    // An expired subscription is renewed in place with a new term and the new notes and answered
    // as reused (subscription_service.go:521-536@67380eafd).
    const now = Date.now();
    if (existing.status === "expired" || existing.expiresAt <= now) {
      Object.assign(existing, {
        status: "active",
        startsAt: now,
        expiresAt: now + days * DAY,
        notes: notes.trim(),
        updatedAt: now,
      });
      return { ok: true, sub: existing, reused: true };
    }
    const sameDays = existing.startsAt + days * DAY === existing.expiresAt;
    const sameNotes = existing.notes.trim() === notes.trim();
    if (sameDays && sameNotes) return { ok: true, sub: existing, reused: true };
    return {
      ok: false,
      status: 409,
      message: "subscription assign conflict",
      reason: "SUBSCRIPTION_ASSIGN_CONFLICT",
      metadata: { conflict_reason: sameDays ? "notes_mismatch" : "validity_days_mismatch" },
    };
  }
  const now = Date.now();
  const sub: SimSubscription = {
    id: state.nextId("subscriptions"),
    userId,
    groupId,
    startsAt: now,
    expiresAt: now + days * DAY,
    status: "active",
    notes: notes.trim(),
    assignedBy: state.firstAdmin().id,
    createdAt: now,
    updatedAt: now,
  };
  state.subscriptions.set(sub.id, sub);
  return { ok: true, sub, reused: false };
}

export function registerSubscriptions(
  sim: Sim,
  idempotent: (h: (c: Ctx) => Promise<Response>) => (c: Ctx) => Promise<Response>,
) {
  const { state, profile } = sim;
  const BASE = "/api/v1/admin/subscriptions";

  route(sim, "GET", BASE, (c) => {
    const num = (k: string) => (c.req.query(k) ? Number(c.req.query(k)) : undefined);
    const userId = num("user_id");
    const groupId = num("group_id");
    const status = c.req.query("status");
    const now = Date.now();
    const items = [...state.subscriptions.values()].filter(
      (s) =>
        (userId === undefined || s.userId === userId) &&
        (groupId === undefined || s.groupId === groupId) &&
        statusMatches(s, status, now),
    );
    const page = paginate(items, pageParams(c, profile.maxPageSize));
    return success(c, { ...page, items: page.items.map(subscriptionJson) });
  });

  route(sim, "GET", `${BASE}/:id`, (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid subscription ID");
    // GetByID keeps the soft-delete filter: a revoked row is 404 here while the list still shows it
    // (user_subscription_repo.go:64@2bc139ab5).
    const s = state.subscriptions.get(id);
    return s && s.status !== "revoked"
      ? success(c, subscriptionJson(s))
      : fail(c, 404, "subscription not found", "SUBSCRIPTION_NOT_FOUND");
  });

  route(sim, "POST", `${BASE}/assign`, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const failures: { field: string; tag: string }[] = [];
    if (typeof body.user_id !== "number") failures.push({ field: "UserID", tag: "required" });
    if (typeof body.group_id !== "number") failures.push({ field: "GroupID", tag: "required" });
    if (failures.length > 0) return badRequest(c, validationMessage("AssignSubscriptionRequest", failures));
    const days = typeof body.validity_days === "number" ? body.validity_days : 0;
    if (days > 36500)
      return badRequest(
        c,
        validationMessage("AssignSubscriptionRequest", [{ field: "ValidityDays", tag: "max" }]),
      );
    const r = assignSubscription(
      sim,
      body.user_id as number,
      body.group_id as number,
      days,
      typeof body.notes === "string" ? body.notes : "",
    );
    if (!r.ok) return fail(c, r.status, r.message, r.reason, r.metadata);
    return success(c, subscriptionJson(r.sub));
  });

  route(sim, "POST", `${BASE}/bulk-assign`, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const userIds = Array.isArray(body.user_ids)
      ? body.user_ids.filter((x): x is number => typeof x === "number")
      : [];
    if (userIds.length === 0 || typeof body.group_id !== "number") {
      return badRequest(
        c,
        validationMessage("BulkAssignSubscriptionRequest", [{ field: "UserIDs", tag: "min" }]),
      );
    }
    const subs: ReturnType<typeof subscriptionJson>[] = [];
    const errors: string[] = [];
    const statuses: Record<string, string> = {};
    let created = 0;
    let reused = 0;
    for (const uid of userIds) {
      const r = assignSubscription(
        sim,
        uid,
        body.group_id,
        typeof body.validity_days === "number" ? body.validity_days : 0,
        typeof body.notes === "string" ? body.notes : "",
      );
      if (r.ok) {
        subs.push(subscriptionJson(r.sub));
        statuses[String(uid)] = r.reused ? "reused" : "created";
        if (r.reused) reused++;
        else created++;
      } else {
        errors.push(`user ${uid}: ${r.message}`);
        statuses[String(uid)] = "failed";
      }
    }
    const base = { success_count: subs.length, failed_count: errors.length, subscriptions: subs, errors };
    return success(
      c,
      profile.assignIdempotent ? { ...base, created_count: created, reused_count: reused, statuses } : base,
    );
  });

  const revoke = (c: Ctx) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid subscription ID");
    const s = state.subscriptions.get(id);
    if (!s || s.status === "revoked") return fail(c, 404, "subscription not found", "SUBSCRIPTION_NOT_FOUND");
    if (profile.softRevoke) {
      // A soft delete (service/subscription_service.go:600-616@2bc139ab5): the row keeps its data
      // and gains deleted_at.
      const now = Date.now();
      Object.assign(s, { status: "revoked", revokedAt: now, updatedAt: now });
    } else {
      state.subscriptions.delete(id);
    }
    return success(c, { message: "Subscription revoked successfully" });
  };
  route(sim, "DELETE", `${BASE}/:id`, revoke);

  // ExtendSubscriptionRequest `days` binding required,min=-36500,max=36500
  // (subscription_handler.go:57-60@67380eafd; Dec 2025: min=1): a negative value shortens. The
  // handler runs through the idempotency coordinator (`:204-217`).
  const minDays = profile.idempotency ? -36500 : 1;
  route(
    sim,
    "POST",
    `${BASE}/:id/extend`,
    idempotent(async (c) => {
      const id = parseId(c.req.param("id") ?? "");
      if (id === undefined) return badRequest(c, "Invalid subscription ID");
      const body = await readJson(c);
      if (typeof body === "string") return badRequest(c, body);
      const days = body.days;
      const tag =
        typeof days !== "number" || !Number.isInteger(days) || days === 0
          ? "required"
          : days < minDays
            ? "min"
            : days > 36500
              ? "max"
              : undefined;
      if (tag) return badRequest(c, validationMessage("ExtendSubscriptionRequest", [{ field: "Days", tag }]));
      const s = state.subscriptions.get(id);
      if (!s || s.status === "revoked")
        return fail(c, 404, "subscription not found", "SUBSCRIPTION_NOT_FOUND");
      s.expiresAt += (days as number) * DAY;
      s.updatedAt = Date.now();
      return success(c, subscriptionJson(s));
    }),
  );
  if (profile.softRevoke) {
    route(sim, "POST", `${BASE}/:id/revoke`, revoke);
    route(sim, "POST", `${BASE}/:id/restore`, (c) => {
      const id = parseId(c.req.param("id") ?? "");
      const s = id === undefined ? undefined : state.subscriptions.get(id);
      if (!s) return fail(c, 404, "subscription not found", "SUBSCRIPTION_NOT_FOUND");
      if (s.status !== "revoked")
        return fail(c, 409, "subscription is not revoked", "SUBSCRIPTION_NOT_REVOKED"); // subscription_service.go:34
      s.status = s.expiresAt > Date.now() ? "active" : "expired";
      s.revokedAt = undefined;
      return success(c, subscriptionJson(s));
    });
  }
}

export function userJson(u: SimUser) {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    role: u.role,
    balance: u.balance,
    concurrency: u.concurrency,
    status: u.status,
    allowed_groups: u.allowedGroups,
    notes: u.notes,
    rpm_limit: 0,
    total_recharged: 0,
    current_concurrency: 0,
    created_at: goTime(u.createdAt),
    updated_at: goTime(u.updatedAt),
  };
}

export function registerUsers(
  sim: Sim,
  idempotent: (h: (c: Ctx) => Promise<Response>) => (c: Ctx) => Promise<Response>,
) {
  const { state, profile } = sim;
  const BASE = "/api/v1/admin/users";
  const live = () => [...state.users.values()].filter((u) => !u.deletedAt);
  const find = (c: Ctx) => {
    const id = parseId(c.req.param("id") ?? "");
    const u = id === undefined ? undefined : state.users.get(id);
    return u && !u.deletedAt ? u : undefined;
  };

  route(sim, "GET", BASE, (c) => {
    const search = c.req.query("search")?.toLowerCase();
    const items = live().filter(
      (u) => !search || u.email.toLowerCase().includes(search) || u.username.toLowerCase().includes(search),
    );
    const page = paginate(items, pageParams(c, profile.maxPageSize));
    return success(c, { ...page, items: page.items.map(userJson) });
  });
  route(sim, "GET", `${BASE}/:id`, (c) => {
    const u = find(c);
    return u ? success(c, userJson(u)) : fail(c, 404, "user not found", "USER_NOT_FOUND");
  });
  // GetUserAPIKeys (routes/admin.go:304, handler/admin/user_handler.go:417-439,
  // service/admin_user.go:596-603 @2bc139ab5): the user's live keys, newest first, paginated, each
  // with the key in full (dto/types.go:53-56); the user itself is not looked up, so a deleted one
  // lists nothing (its keys went with it). Met live on 2bc139ab5, 67380eafd and 9a2f11b4e.
  route(sim, "GET", `${BASE}/:id/api-keys`, (c) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid user ID");
    const items = state
      .liveKeys()
      .filter((k) => k.userId === id)
      .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
    const page = paginate(items, pageParams(c, profile.maxPageSize));
    return success(c, { ...page, items: page.items.map(keyJson) });
  });
  route(sim, "POST", BASE, async (c) => {
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const failures: { field: string; tag: string }[] = [];
    if (typeof body.email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(body.email))
      failures.push({ field: "Email", tag: "email" });
    if (typeof body.password !== "string" || body.password.length < 6)
      failures.push({ field: "Password", tag: "min" });
    if (failures.length > 0) return badRequest(c, validationMessage("CreateUserRequest", failures));
    if (live().some((u) => u.email === body.email))
      return fail(c, 409, "email already exists", "EMAIL_EXISTS");
    const u = state.addUser({ email: body.email as string, password: body.password as string });
    if (typeof body.notes === "string") u.notes = body.notes;
    if (typeof body.username === "string") u.username = body.username;
    return success(c, userJson(u));
  });
  // UpdateUserRequest (backend/internal/handler/admin/user_handler.go:39-49@d3e73f1): every field
  // optional; `password` binding omitempty,min=6; `status` oneof active disabled.
  route(sim, "PUT", `${BASE}/:id`, async (c) => {
    const u = find(c);
    if (!u) return fail(c, 404, "user not found", "USER_NOT_FOUND");
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const failures: { field: string; tag: string }[] = [];
    if (body.password !== undefined && (typeof body.password !== "string" || body.password.length < 6))
      failures.push({ field: "Password", tag: "min" });
    if (body.status !== undefined && body.status !== "active" && body.status !== "disabled")
      failures.push({ field: "Status", tag: "oneof" });
    if (failures.length > 0) return badRequest(c, validationMessage("UpdateUserRequest", failures));
    if (typeof body.password === "string") u.password = body.password;
    if (typeof body.notes === "string") u.notes = body.notes;
    if (body.status === "active" || body.status === "disabled") u.status = body.status;
    u.updatedAt = Date.now();
    return success(c, userJson(u));
  });
  // UserHandler.Delete → adminService.DeleteUser (handler/admin/user_handler.go:366-382,
  // service/admin_user.go:351-394 @67380eafd): GetByID skips soft-deleted users, so a second
  // delete is 404 USER_NOT_FOUND (repository/user_repo.go:178-181, service/user_service.go:32);
  // an admin is refused with a plain error, which ErrorFrom answers 500 "internal error"
  // (admin_user.go:357-359, pkg/errors/errors.go:10-12,148-157); the user is soft-deleted
  // (ent/schema/user.go:29-33 SoftDeleteMixin; email unique only WHERE deleted_at IS NULL,
  // migrations/016) and, 0.1.134+, its keys are tombstoned and soft-deleted with it
  // (admin_user.go:422-440, repository/api_key_repo.go:375-420). Its subscriptions stay.
  route(sim, "DELETE", `${BASE}/:id`, (c) => {
    const u = find(c);
    if (!u) return fail(c, 404, "user not found", "USER_NOT_FOUND");
    if (u.role === "admin") return fail(c, 500, "internal error");
    // DeleteUser (service/admin_user.go:351-440@2bc139ab5): the user's API keys are deleted with
    // it (DeleteWithAudit: soft delete, key tombstoned, repository/api_key_repo.go:344; from
    // 0.1.134, 705fe7d88), then the user is soft-deleted; subscriptions are left as they are. Met
    // live on 2bc139ab5 and 67380eafd (2026-12-02): the old key answers 401 INVALID_API_KEY, the
    // user's subscription is still listed active, and the same e-mail can be created again (the
    // unique index covers live rows only: users_email_unique_active … WHERE deleted_at IS NULL).
    const now = Date.now();
    if (profile.userDeleteTakesKeys)
      for (const k of state.apiKeys.values())
        if (k.userId === u.id && !k.deletedAt) {
          k.key = `__deleted__${k.id}__${now}`;
          k.deletedAt = now;
        }
    u.deletedAt = now;
    return success(c, { message: "User deleted successfully" });
  });
  route(
    sim,
    "POST",
    `${BASE}/:id/balance`,
    idempotent(async (c) => {
      const u = find(c);
      if (!u) return fail(c, 404, "user not found", "USER_NOT_FOUND");
      const body = await readJson(c);
      if (typeof body === "string") return badRequest(c, body);
      const amount = typeof body.balance === "number" ? body.balance : 0;
      if (!(amount > 0))
        return badRequest(c, validationMessage("UpdateBalanceRequest", [{ field: "Balance", tag: "gt" }]));
      if (body.operation === "set") u.balance = amount;
      else if (body.operation === "add") u.balance += amount;
      else if (body.operation === "subtract") u.balance -= amount;
      else
        return badRequest(
          c,
          validationMessage("UpdateBalanceRequest", [{ field: "Operation", tag: "oneof" }]),
        );
      return success(c, userJson(u));
    }),
  );
}

/**
 * A channel's `model_mapping` as gin binds it: `map[string]map[string]string`, platform first
 * (channel_handler.go:35,50, the bind error as VALIDATION_ERROR at :441-444,502-505@2bc139ab5).
 * A flat `{"old": "new"}` is refused 400 (met live on 2bc139ab5 and 67380eafd, 2026-12-02:
 * "json: cannot unmarshal string into Go struct field updateChannelRequest.model_mapping of type
 * map[string]string"). Undefined when absent; an update that sends it replaces the whole mapping.
 */
function parseChannelMapping(
  value: unknown,
  request: "createChannelRequest" | "updateChannelRequest",
): SimChannel["modelMapping"] | string | undefined {
  if (value === undefined || value === null) return undefined;
  const refuse = (got: string, type: string) =>
    `json: cannot unmarshal ${got} into Go struct field ${request}.model_mapping of type ${type}`;
  const kind = (v: unknown) => (Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v);
  if (typeof value !== "object" || Array.isArray(value))
    return refuse(kind(value), "map[string]map[string]string");
  const out: SimChannel["modelMapping"] = {};
  for (const [platform, inner] of Object.entries(value)) {
    if (typeof inner !== "object" || inner === null || Array.isArray(inner))
      return refuse(kind(inner), "map[string]string");
    const m: Record<string, string> = {};
    for (const [from, to] of Object.entries(inner)) {
      if (typeof to !== "string") return refuse(kind(to), "string");
      m[from] = to;
    }
    out[platform] = m;
  }
  return out;
}
