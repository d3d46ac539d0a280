import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { registerAccounts } from "./admin-accounts.js";
import { complianceMetadata, registerGroups, registerSystem } from "./admin-core.js";
import { registerChannels, registerPlans, registerSubscriptions, registerUsers } from "./admin-resources.js";
import { type Ctx, type FaultOptions, isKnownRoute, type Sim, type SimOptions } from "./context.js";
import { registerGateway } from "./gateway.js";
import { fail, ginNotFound, middlewareError } from "./gin.js";
import { type ProfileName, profileOf } from "./profiles.js";
import { generateAdminKey, payloadHash, SimState } from "./state.js";
import { DEFAULT_UPSTREAM_HOSTS, FakeUpstream } from "./upstream.js";
import { registerUserApi } from "./user-api.js";

export interface CreateSimOptions {
  profile?: ProfileName;
  adminApiKey?: string;
  complianceLocked?: boolean;
  stepUpVariant?: boolean;
  adminRpm?: number;
  /** Logins a minute before `/api/v1/auth/login` answers 429 (a real host: 20); default unlimited. */
  loginRpm?: number;
  /** sub2api `idempotency.observe_only: false`: a keyless call to a `RequireKey` route is refused. */
  idempotencyRequired?: boolean;
  /** Older name of `idempotencyRequired`. */
  requireIdempotencyKey?: boolean;
  /**
   * `security.url_allowlist.enabled: true`; `true` takes the default `upstream_hosts`
   * (`DEFAULT_UPSTREAM_HOSTS`), a list replaces them.
   */
  urlAllowlist?: boolean | string[];
  /** sub2api `run_mode` (≥ 0.2.4 only; ignored on older profiles). */
  runMode?: "standard" | "simple";
  turnstileEnabled?: boolean;
  captchaEnabled?: boolean;
  backendModeEnabled?: boolean;
  paymentEnabled?: boolean;
  faults?: FaultOptions;
}

/**
 * Routes that go through sub2api's idempotency coordinator (contract §2.5), each `RequireKey: true`
 * (`service/idempotency.go:213-216@67380eafd`): subscription extend
 * (`handler/admin/subscription_handler.go:204-217`) and user key create
 * (`handler/api_key_handler.go:220`) too, wrapped so since 0.1.104 (`:211`/`:172@94bba415`).
 */
const IDEMPOTENT_ROUTES = [
  /^POST \/api\/v1\/admin\/accounts$/,
  /^POST \/api\/v1\/admin\/accounts\/batch$/,
  /^POST \/api\/v1\/admin\/users\/\d+\/balance$/,
  /^POST \/api\/v1\/admin\/subscriptions\/\d+\/extend$/,
  /^POST \/api\/v1\/keys$/,
];
const STEP_UP_ROUTES = [
  /^(POST|PUT|DELETE) \/api\/v1\/admin\/accounts(\/\d+)?$/,
  /^POST \/api\/v1\/admin\/accounts\/(batch|batch-delete)$/,
  /^\w+ \/api\/v1\/admin\/users(\/.*)?$/,
];

/** A small deterministic PRNG so fault runs can be replayed from a seed. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createSimulator(opts: CreateSimOptions = {}): Sim {
  const profile = profileOf(opts.profile ?? "cn-native");
  const options: SimOptions = {
    profile,
    adminApiKey: opts.adminApiKey ?? generateAdminKey(),
    complianceLocked: profile.compliance && (opts.complianceLocked ?? false),
    stepUpVariant: opts.stepUpVariant ?? false,
    adminRpm: opts.adminRpm,
    loginRpm: opts.loginRpm,
    requireIdempotencyKey: opts.idempotencyRequired ?? opts.requireIdempotencyKey ?? false,
    simpleMode: profile.simpleModeAvailable && opts.runMode === "simple",
    urlAllowlist:
      opts.urlAllowlist === true
        ? [...DEFAULT_UPSTREAM_HOSTS]
        : Array.isArray(opts.urlAllowlist)
          ? opts.urlAllowlist
          : undefined,
    publicSettings: {
      turnstileEnabled: opts.turnstileEnabled ?? false,
      captchaEnabled: opts.captchaEnabled ?? false,
      backendModeEnabled: opts.backendModeEnabled ?? false,
      paymentEnabled: opts.paymentEnabled ?? true,
    },
    faults: opts.faults ?? {},
  };
  const app = new Hono();
  const sim: Sim = {
    options,
    profile,
    state: new SimState(options.adminApiKey, !options.complianceLocked),
    upstream: new FakeUpstream(),
    routes: [],
    app,
    requestCount: 0,
    writes: [],
  };
  let random = mulberry32(options.faults.seed ?? 1);
  const window = { start: Date.now(), count: 0 };

  // --- simulator-only control surface (not part of sub2api) ---
  app.get("/__sim/state", (c) =>
    c.json({ profile: profile.name, counts: sim.state.liveCounts(), requests: sim.requestCount }),
  );
  app.post("/__sim/upstream/revoke", async (c) => {
    const body = (await c.req.json()) as { key?: string };
    if (typeof body.key !== "string") return c.json({ error: "key required" }, 400);
    sim.upstream.revoke(body.key);
    return c.json({ ok: true });
  });
  app.post("/__sim/users", async (c) => {
    const body = (await c.req.json()) as { email?: string; password?: string; balance?: number };
    if (typeof body.email !== "string" || typeof body.password !== "string")
      return c.json({ error: "email and password required" }, 400);
    const user = sim.state.addUser({
      email: body.email,
      password: body.password,
      balance: body.balance ?? 0,
    });
    return c.json({ id: user.id, email: user.email });
  });
  app.post("/__sim/faults", async (c) => {
    options.faults = (await c.req.json()) as FaultOptions;
    random = mulberry32(options.faults.seed ?? 1);
    return c.json({ ok: true });
  });

  // --- Gin engine behaviour: unknown routes get the plain-text 404 before any middleware ---
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/__sim/")) return next();
    if (!isKnownRoute(sim, c.req.method, c.req.path)) return ginNotFound(c);
    sim.requestCount += 1;
    const fault = await injectFault(c, options.faults, random);
    if (fault) return fault;
    await next();
    // Every request the host accepted that is not a read: what "no host write" is judged by.
    if (c.req.method !== "GET" && c.res.status < 300) sim.writes.push(`${c.req.method} ${c.req.path}`);
  });

  // --- /api/v1/admin: adminAuth → panel rate limiter → compliance guard → step-up ---
  app.use("/api/v1/admin/*", async (c, next) => {
    const apiKey = c.req.header("x-api-key");
    if (apiKey !== undefined) {
      if (apiKey !== sim.state.adminApiKey)
        return middlewareError(c, 401, "INVALID_ADMIN_KEY", "Invalid admin API key");
    } else {
      const bearer = c.req.header("authorization") ?? "";
      const token = bearer.startsWith("Bearer ") ? bearer.slice(7).trim() : "";
      if (!token) return middlewareError(c, 401, "UNAUTHORIZED", "Authorization required");
      const session = sim.state.sessions.get(token);
      const user = session ? sim.state.users.get(session.userId) : undefined;
      if (!session || !user) return middlewareError(c, 401, "INVALID_TOKEN", "Invalid token");
      if (user.role !== "admin") return middlewareError(c, 403, "FORBIDDEN", "Admin access required");
    }
    if (options.adminRpm !== undefined) {
      const now = Date.now();
      if (now - window.start >= 60_000) {
        window.start = now;
        window.count = 0;
      }
      window.count += 1;
      if (window.count > options.adminRpm) {
        c.header("Retry-After", String(Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000))));
        return middlewareError(
          c,
          429,
          "RATE_LIMITED",
          "Too many requests, please slow down and try again later",
        );
      }
    }
    if (
      profile.compliance &&
      !sim.state.complianceAcknowledged &&
      !c.req.path.startsWith("/api/v1/admin/compliance")
    ) {
      return middlewareError(
        c,
        423,
        "ADMIN_COMPLIANCE_ACK_REQUIRED",
        "administrator compliance acknowledgement is required",
        {
          metadata: complianceMetadata,
        },
      );
    }
    const line = `${c.req.method} ${c.req.path}`;
    if (options.stepUpVariant && apiKey !== undefined && STEP_UP_ROUTES.some((r) => r.test(line))) {
      return middlewareError(
        c,
        403,
        "STEP_UP_ADMIN_API_KEY_FORBIDDEN",
        "admin API key cannot perform step-up protected operations",
      );
    }
    return next();
  });

  const idempotent = (handler: (c: Ctx) => Promise<Response>) => async (c: Ctx) => {
    const line = `${c.req.method} ${c.req.path}`;
    if (!profile.idempotency || !IDEMPOTENT_ROUTES.some((r) => r.test(line))) return handler(c);
    const key = c.req.header("idempotency-key");
    if (!key) {
      if (options.requireIdempotencyKey)
        return fail(c, 400, "Idempotency-Key header is required", "IDEMPOTENCY_KEY_REQUIRED");
      return handler(c);
    }
    const raw = await c.req.raw.clone().text();
    // The fingerprint covers method, route, actor and payload (BuildIdempotencyFingerprint).
    const actor = c.req.header("x-api-key") ?? c.req.header("authorization") ?? "";
    const scope = `${line} ${payloadHash(actor)} ${key}`;
    const hash = payloadHash(raw);
    const now = Date.now();
    const retryAfter = (until: number) => ({
      retry_after: String(Math.max(1, Math.ceil((until - now) / 1000))),
    });
    const previous = sim.state.idempotency.get(scope);
    // The coordinator's Execute (backend/internal/service/idempotency.go@3c800aaa): a different
    // fingerprint is IDEMPOTENCY_KEY_CONFLICT; `processing` answers IDEMPOTENCY_IN_PROGRESS and a
    // `failed_retryable` still in its backoff IDEMPOTENCY_RETRY_BACKOFF, both 409 with
    // metadata.retry_after (conflictWithRetryAfter); `succeeded` replays the stored answer.
    if (previous) {
      if (previous.payloadHash !== hash) {
        return fail(c, 409, "idempotency key reused with different payload", "IDEMPOTENCY_KEY_CONFLICT");
      }
      if (previous.state === "processing" && previous.lockedUntil > now)
        return fail(
          c,
          409,
          "idempotent request is still processing",
          "IDEMPOTENCY_IN_PROGRESS",
          retryAfter(previous.lockedUntil),
        );
      if (previous.state === "failed_retryable" && previous.lockedUntil > now)
        return fail(
          c,
          409,
          "idempotent request is in retry backoff window",
          "IDEMPOTENCY_RETRY_BACKOFF",
          retryAfter(previous.lockedUntil),
        );
      if (previous.state === "succeeded") {
        c.header("X-Idempotency-Replayed", "true");
        return c.json(previous.body as object, previous.status as 200);
      }
    }
    const record = {
      payloadHash: hash,
      state: "processing" as const,
      lockedUntil: now + 30_000,
      status: 0,
      body: null,
    };
    sim.state.idempotency.set(scope, record);
    const res = await handler(c);
    // Any execution error (4xx included) is failed_retryable for FailedRetryBackoff (5 s).
    sim.state.idempotency.set(
      scope,
      res.status < 400
        ? { ...record, state: "succeeded", status: res.status, body: await res.clone().json() }
        : { ...record, state: "failed_retryable", lockedUntil: Date.now() + 5_000 },
    );
    return res;
  };

  registerSystem(sim);
  registerGroups(sim);
  registerAccounts(sim, idempotent);
  registerChannels(sim);
  registerPlans(sim);
  registerSubscriptions(sim, idempotent);
  registerUsers(sim, idempotent);
  registerUserApi(sim, idempotent);
  registerGateway(sim);
  app.notFound(ginNotFound);
  app.onError((err, c) => fail(c, 500, `internal error: ${err.message}`));
  return sim;
}

async function injectFault(
  c: Ctx,
  faults: FaultOptions,
  random: () => number,
): Promise<Response | undefined> {
  if (faults.match && !faults.match.test(`${c.req.method} ${c.req.path}`)) return undefined;
  if (faults.hold) await faults.hold(`${c.req.method} ${c.req.path}`);
  if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
  // "Slow" answers: a random extra delay up to slowMs, still executed and answered.
  if (faults.slowMs) await new Promise((r) => setTimeout(r, Math.floor(random() * (faults.slowMs ?? 0))));
  // One roll picks at most one fault; the rates are stacked bands of [0, 1).
  const roll = random();
  const bands: [number, "error" | "rate_limit" | "reset" | "hang"][] = [
    [faults.errorRate ?? 0, "error"],
    [faults.rateLimitRate ?? 0, "rate_limit"],
    [faults.resetRate ?? 0, "reset"],
    [faults.hangRate ?? 0, "hang"],
  ];
  let edge = 0;
  let picked: (typeof bands)[number][1] | undefined;
  for (const [rate, kind] of bands) {
    edge += rate;
    if (roll < edge) {
      picked = kind;
      break;
    }
  }
  switch (picked) {
    case "error":
      return fail(c, 500, "internal error");
    case "rate_limit":
      c.header("Retry-After", String(faults.retryAfterSeconds ?? 1));
      return middlewareError(
        c,
        429,
        "RATE_LIMITED",
        "Too many requests, please slow down and try again later",
      );
    case "reset": {
      const incoming = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming;
      incoming?.socket?.destroy();
      return c.text("", 500);
    }
    case "hang": {
      // The request is held, then dropped unanswered and unexecuted: the client sees a timeout.
      await new Promise((r) => setTimeout(r, faults.hangMs ?? 60_000));
      const incoming = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming;
      incoming?.socket?.destroy();
      return c.text("", 504);
    }
    case undefined:
      break;
  }
  return undefined;
}

export interface RunningSim {
  sim: Sim;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the simulator on a real port (0 = any free port) on loopback. */
export function startSimulator(
  opts: CreateSimOptions & { port?: number; hostname?: string } = {},
): Promise<RunningSim> {
  const sim = createSimulator(opts);
  return new Promise((resolve) => {
    const server: ServerType = serve(
      { fetch: sim.app.fetch, port: opts.port ?? 0, hostname: opts.hostname ?? "127.0.0.1" },
      (info: AddressInfo) => {
        resolve({
          sim,
          url: `http://127.0.0.1:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              server.close(() => done());
            }),
        });
      },
    );
  });
}
