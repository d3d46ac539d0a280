import { type Context, Hono, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppContext } from "../../app/context.js";
import { AppError } from "../../domain/errors.js";
import { PACK_LIMITS } from "../../packs/archive.js";
import { ping, storeKind } from "../../store/db.js";
import { packageVersion } from "../../util/paths.js";
import { secretMatcher } from "../../util/secrets.js";
import { boardRoutes } from "./board.js";
import { docsRoutes } from "./docs-page.js";
import { errorResponse } from "./errors.js";
import { buildOpenApi } from "./openapi.js";
import { loggedPath } from "./redact.js";
import { mountRoutes } from "./route.js";
import { apiRoutes } from "./routes/index.js";

/**
 * No id or name holds a control character: such a path names nothing, on either store
 * (PostgreSQL could not even compare it: its text has no U+0000).
 */
function refuseControlCharacters(c: Context): void {
  const raw = c.req.path;
  let path = raw;
  if (raw.includes("%")) {
    try {
      path = decodeURIComponent(raw);
    } catch {}
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) throw routeNotFound();
}

/** The path is never repeated: it may carry a secret pasted into the wrong place. */
const routeNotFound = () =>
  new AppError("not_found", "ROUTE_NOT_FOUND", "no route has this method and path", {
    hint: "The routes are listed at GET /openapi.json and /docs.",
  });

export const MAX_JSON_BODY_BYTES = 1024 * 1024;
/** Key lists: up to 10,000 keys of up to 512 characters. */
export const MAX_KEYS_BODY_BYTES = 8 * 1024 * 1024;

/**
 * One pass for every /api request (the hot reads among them): the path; then for a write, the
 * drain (a stopping process takes none), the body's limit, and tracking until it is answered.
 */
function apiPass(serve: ServeHooks) {
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError("invalid_input", "BODY_TOO_LARGE", `request body exceeds ${maxSize} bytes`);
      },
    });
  const jsonLimit = limit(MAX_JSON_BODY_BYTES);
  const archiveLimit = limit(PACK_LIMITS.maxArchiveBytes);
  const keysLimit = limit(MAX_KEYS_BODY_BYTES);
  return (c: Context, next: Next) => {
    refuseControlCharacters(c);
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    if (serve.isDraining?.())
      throw new AppError(
        "unavailable",
        "SHUTTING_DOWN",
        "this relay process is shutting down and takes no new work",
        {
          hint: "Send it to another replica, or again once relay has restarted.",
        },
      );
    const write =
      c.req.path === "/api/packs/install"
        ? archiveLimit(c, next)
        : /^\/api\/providers\/[^/]+\/(preview-)?import$/.test(c.req.path)
          ? keysLimit(c, next)
          : jsonLimit(c, next);
    // A write in progress (a rollback, a reconcile, an import with ?wait) is finished before a stop.
    serve.track?.(write, `${c.req.method} ${c.req.path}`);
    return write;
  };
}

/** What `relay serve` tells the app about the process around it. */
export interface ServeHooks {
  isLeader?: () => boolean;
  /** Shutting down: /readyz is 503 and new work (any /api write) is refused with 503. */
  isDraining?: () => boolean;
  /** Work that goes on after its request was answered (an accepted import): the stop waits for it. */
  track?: (work: Promise<unknown>, label: string) => void;
}

/** The HTTP API. Handlers only parse, call one service verb and map errors. */
export function createApp(ctx: AppContext, serve: ServeHooks = {}) {
  const app = new Hono();
  app.use("*", requestId());
  // One access-log line per request: id, method, path (never the query; a path id only when it
  // has its route's shape and does not look like a secret), status, duration.
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    ctx.logger.info(
      {
        req_id: c.get("requestId"),
        method: c.req.method,
        path: loggedPath(c),
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });
  app.use("*", secureHeaders({ crossOriginResourcePolicy: "same-origin" }));
  app.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  const doc = buildOpenApi(packageVersion());
  app.get("/openapi.json", (c) => c.json(doc));
  app.route("/", docsRoutes(`${doc.info.title} ${doc.info.version}`));
  app.get("/readyz", async (c) => {
    if (serve.isDraining?.()) return c.json({ status: "not_ready", reason: "shutting down" }, 503);
    try {
      await ping(ctx.db);
      // The store, and whether this replica runs the scheduled reconciles (one replica does).
      return c.json({
        status: "ready",
        store: storeKind(ctx.db),
        ...(serve.isLeader ? { scheduler_leader: serve.isLeader() } : {}),
      });
    } catch (err) {
      ctx.logger.error({ err }, "readiness check failed");
      return c.json({ status: "not_ready", reason: "database unavailable" }, 503);
    }
  });

  const tokenMatches = ctx.config.apiToken ? secretMatcher(ctx.config.apiToken) : () => false;
  const requireToken = async (c: Context, next: Next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!token || !tokenMatches(token)) {
      c.header("WWW-Authenticate", 'Bearer realm="relay"');
      throw new AppError("unauthorized", "UNAUTHORIZED", "missing or invalid bearer token", {
        hint: "Send Authorization: Bearer $RELAY_API_TOKEN.",
      });
    }
    await next();
  };
  app.use("/api/*", requireToken);
  // Metrics name hosts and providers: same token as the API (Prometheus: `authorization: {credentials: …}`).
  app.get("/metrics", requireToken, async (c) =>
    c.text(await ctx.metrics.registry.metrics(), 200, { "content-type": ctx.metrics.registry.contentType }),
  );
  app.use("/api/*", apiPass(serve));

  // Every /api route from its one declaration (routes/*.ts), the same list the document is built from.
  mountRoutes(app, apiRoutes, { ctx, track: serve.track ?? (() => {}) });
  // The status board: static files; the data comes from /api/* with the token (never in a URL).
  app.route("/", boardRoutes());

  app.notFound((c) => errorResponse(c, routeNotFound(), ctx.logger));
  app.onError((err, c) => errorResponse(c, err, ctx.logger));
  return app;
}
