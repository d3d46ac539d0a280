import { randomBytes } from "node:crypto";
import { type Ctx, route, type Sim } from "./context.js";
import {
  badRequest,
  fail,
  goTime,
  middlewareError,
  pageParams,
  paginate,
  parseId,
  readJson,
  success,
  validationMessage,
} from "./gin.js";
import type { SimApiKey, SimUser } from "./state.js";

/** dto.APIKey (handler/dto/types.go:53-67@2bc139ab5): the key itself in full. */
export function keyJson(k: SimApiKey) {
  return {
    id: k.id,
    user_id: k.userId,
    key: k.key,
    name: k.name,
    group_id: k.groupId,
    status: k.status,
    ip_whitelist: [],
    ip_blacklist: [],
    quota: 0,
    quota_used: 0,
    expires_at: null,
    created_at: goTime(k.createdAt),
    updated_at: goTime(k.updatedAt),
  };
}

/** jwtAuth: a missing or unknown token is a flat middleware error. */
function sessionUser(sim: Sim, c: Ctx): SimUser | Response {
  const header = c.req.header("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  if (!token) return middlewareError(c, 401, "UNAUTHORIZED", "Authorization required");
  const session = sim.state.sessions.get(token);
  const user = session ? sim.state.users.get(session.userId) : undefined;
  if (!session || !user || user.deletedAt) return middlewareError(c, 401, "INVALID_TOKEN", "Invalid token");
  if (user.status !== "active") return middlewareError(c, 401, "USER_INACTIVE", "User is inactive");
  if (session.tokenVersion !== user.tokenVersion)
    return middlewareError(c, 401, "TOKEN_REVOKED", "Token revoked");
  if (sim.options.publicSettings.backendModeEnabled && user.role !== "admin") {
    return middlewareError(c, 403, "BACKEND_MODE_ADMIN_ONLY", "Backend mode is active");
  }
  return user;
}

/** canUserBindGroup (contract §9.4). */
export function canBind(sim: Sim, user: SimUser, groupId: number): boolean {
  const g = sim.state.groups.get(groupId);
  if (!g || g.deletedAt || g.status !== "active") return false;
  if (g.subscriptionType === "subscription") return sim.state.activeSubscription(user.id, g.id) !== undefined;
  return !g.isExclusive || user.allowedGroups.includes(g.id);
}

export function registerUserApi(
  sim: Sim,
  idempotent: (h: (c: Ctx) => Promise<Response>) => (c: Ctx) => Promise<Response>,
) {
  const { state, options, profile } = sim;

  // The `auth-login` limiter: 20 a minute per IP, fail-close, in front of the handler; over it,
  // 429 with gin.H{error, message} (not the envelope) and the window's remaining PTTL, rounded up,
  // as Retry-After (routes/auth.go:38, middleware/rate_limiter.go:100-107,164-181 @67380eafd; the
  // same at 2bc139ab5 and 49504adc9); before 0.1.166 (fead4c7ec) no Retry-After
  // (rate_limiter.go:114-117,131-136@9a2f11b4e). Off unless `loginRpm` is given.
  const loginWindow = { start: 0, count: 0 };
  route(sim, "POST", "/api/v1/auth/login", async (c) => {
    if (options.loginRpm !== undefined) {
      const now = Date.now();
      if (now - loginWindow.start >= 60_000) Object.assign(loginWindow, { start: now, count: 0 });
      loginWindow.count += 1;
      if (loginWindow.count > options.loginRpm) {
        const left = Math.max(1, Math.ceil((loginWindow.start + 60_000 - now) / 1000));
        if (versionAtLeast(profile.version, [0, 1, 166])) c.header("Retry-After", String(left));
        return c.json(
          { error: "rate limit exceeded", message: "Too many requests, please try again later" },
          429,
        );
      }
    }
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    const failures: { field: string; tag: string }[] = [];
    if (typeof body.email !== "string" || body.email === "")
      failures.push({ field: "Email", tag: "required" });
    if (typeof body.password !== "string" || body.password === "")
      failures.push({ field: "Password", tag: "required" });
    if (failures.length > 0) return badRequest(c, validationMessage("LoginRequest", failures));
    if (options.publicSettings.captchaEnabled && typeof body.captcha_ticket !== "string")
      return fail(c, 400, "captcha verification failed", "CAPTCHA_VERIFICATION_FAILED");
    if (options.publicSettings.turnstileEnabled && typeof body.turnstile_token !== "string") {
      return fail(c, 400, "turnstile verification failed", "TURNSTILE_VERIFICATION_FAILED");
    }
    const user = [...state.users.values()].find((u) => u.email === body.email && !u.deletedAt);
    if (!user || user.password !== body.password)
      return fail(c, 401, "invalid email or password", "INVALID_CREDENTIALS");
    if (user.status !== "active") return fail(c, 403, "user is disabled", "USER_DISABLED");
    if (options.publicSettings.backendModeEnabled && user.role !== "admin") {
      return fail(c, 403, "backend mode: admin only", "BACKEND_MODE_ADMIN_ONLY");
    }
    const token = `jwt.${randomBytes(24).toString("hex")}`;
    state.sessions.set(token, { userId: user.id, tokenVersion: user.tokenVersion });
    return success(c, {
      access_token: token,
      token_type: "Bearer",
      expires_in: 86400,
      user: { id: user.id, email: user.email, username: user.username, role: user.role },
    });
  });

  route(sim, "GET", "/api/v1/keys", (c) => {
    const user = sessionUser(sim, c);
    if (user instanceof Response) return user;
    const items = state.liveKeys().filter((k) => k.userId === user.id);
    const page = paginate(items, pageParams(c, profile.maxPageSize));
    return success(c, { ...page, items: page.items.map(keyJson) });
  });

  // api_key_handler.go:220@67380eafd: key create runs through the idempotency coordinator.
  const createKey = idempotent(async (c) => {
    const user = sessionUser(sim, c);
    if (user instanceof Response) return user;
    const body = await readJson(c);
    if (typeof body === "string") return badRequest(c, body);
    if (typeof body.name !== "string" || body.name === "") {
      return badRequest(c, validationMessage("CreateAPIKeyRequest", [{ field: "Name", tag: "required" }]));
    }
    const groupId = typeof body.group_id === "number" ? body.group_id : null;
    if (groupId !== null && !canBind(sim, user, groupId))
      return fail(c, 403, "group not allowed", "GROUP_NOT_ALLOWED");
    const now = Date.now();
    const key: SimApiKey = {
      id: state.nextId("api_keys"),
      userId: user.id,
      key: `sk-${randomBytes(32).toString("hex")}`,
      name: body.name,
      groupId,
      status: "active",
      createdAt: now,
      updatedAt: now,
    };
    state.apiKeys.set(key.id, key);
    return success(c, keyJson(key));
  });
  // jwtAuth is middleware: an unauthenticated create is 401 before the coordinator looks at keys.
  route(sim, "POST", "/api/v1/keys", async (c) => {
    const user = sessionUser(sim, c);
    return user instanceof Response ? user : createKey(c);
  });

  route(sim, "DELETE", "/api/v1/keys/:id", (c) => {
    const user = sessionUser(sim, c);
    if (user instanceof Response) return user;
    const id = parseId(c.req.param("id") ?? "");
    const key = id === undefined ? undefined : state.apiKeys.get(id);
    if (!key || key.deletedAt) return fail(c, 404, "api key not found", "API_KEY_NOT_FOUND");
    if (key.userId !== user.id) return fail(c, 403, "not the owner", "FORBIDDEN");
    key.deletedAt = Date.now();
    return success(c, { message: "API key deleted successfully" });
  });

  route(sim, "GET", "/api/v1/groups/available", (c) => {
    const user = sessionUser(sim, c);
    if (user instanceof Response) return user;
    return success(
      c,
      state
        .liveGroups()
        .filter((g) => canBind(sim, user, g.id))
        .map((g) => ({
          id: g.id,
          name: g.name,
          platform: g.platform,
          subscription_type: g.subscriptionType,
        })),
    );
  });
}

function versionAtLeast(version: string, min: number[]): boolean {
  const v = version.split(".").map(Number);
  for (let i = 0; i < min.length; i++) {
    const d = (v[i] ?? 0) - (min[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}
