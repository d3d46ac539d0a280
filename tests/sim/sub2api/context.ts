import type { Context, Handler, Hono } from "hono";
import type { SimProfile } from "./profiles.js";
import type { SimState } from "./state.js";
import type { FakeUpstream } from "./upstream.js";

export interface FaultOptions {
  /** Added to every host response (ms). */
  latencyMs?: number;
  /** Probability of a 500 envelope instead of the real answer. */
  errorRate?: number;
  /** Probability of a connection reset (socket destroyed without an answer). */
  resetRate?: number;
  /** Probability of a 429 RATE_LIMITED with Retry-After. */
  rateLimitRate?: number;
  /** Seconds announced in Retry-After by injected 429s. */
  retryAfterSeconds?: number;
  /** Probability of holding a request for `hangMs`, then dropping it unanswered and unexecuted. */
  hangRate?: number;
  /** Each answer is delayed by a random 0..slowMs (executed and answered normally). */
  slowMs?: number;
  hangMs?: number;
  /**
   * Called with each matched request (`METHOD path`); when it returns a promise, the request waits
   * until it settles, then goes on normally. A test holds the host mid-operation until the event it
   * waits for has happened, whatever the machine's speed.
   */
  hold?: (request: string) => Promise<unknown> | undefined;
  /** Only requests whose `METHOD path` matches are faulted (default: every host route). */
  match?: RegExp;
  seed?: number;
}

export interface SimOptions {
  profile: SimProfile;
  adminApiKey: string;
  /** Compliance acknowledgement missing: every admin route answers 423 (profiles with the guard). */
  complianceLocked: boolean;
  /** The 23b5dd07 build: account writes and the whole /admin/users tree need TOTP step-up. */
  stepUpVariant: boolean;
  /** Panel rate limit for admin traffic (exempt_admin=false); undefined = exempt (the default). */
  adminRpm: number | undefined;
  /** sub2api's login limiter (`auth-login`, 20/min per IP on a real host); undefined = not modelled. */
  loginRpm: number | undefined;
  /** `idempotency.observe_only=false`: a missing Idempotency-Key is refused. */
  requireIdempotencyKey: boolean;
  /** `security.url_allowlist.enabled: true` with these `upstream_hosts`; undefined = disabled (the default). */
  urlAllowlist: string[] | undefined;
  /** `run_mode: simple` (≥ 0.2.4). */
  simpleMode: boolean;
  publicSettings: {
    turnstileEnabled: boolean;
    backendModeEnabled: boolean;
    paymentEnabled: boolean;
    /** A login captcha (`tencent_captcha_enabled`): login without a captcha answer is refused. */
    captchaEnabled: boolean;
  };
  faults: FaultOptions;
}

export interface Sim {
  options: SimOptions;
  profile: SimProfile;
  state: SimState;
  upstream: FakeUpstream;
  /** Registered host routes, so unknown paths get Gin's 404 before any middleware runs. */
  routes: { method: string; pattern: RegExp }[];
  app: Hono;
  requestCount: number;
  /** `METHOD path` of every non-GET request the host answered with 2xx, oldest first. */
  writes: string[];
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Registers a host route and remembers it in the route table. */
export function route(sim: Sim, method: Method, path: string, handler: Handler) {
  const pattern = new RegExp(`^${path.replace(/:[a-z_]+/g, "[^/]+")}$`);
  sim.routes.push({ method, pattern });
  sim.app.on(method, path, handler);
}

export function isKnownRoute(sim: Sim, method: string, path: string): boolean {
  return sim.routes.some((r) => r.method === method && r.pattern.test(path));
}

export type Ctx = Context;
