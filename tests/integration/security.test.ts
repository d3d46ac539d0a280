import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { buildOpenApi } from "../../src/api/http/openapi.js";
import { createContext } from "../../src/app/context.js";
import { loadConfig } from "../../src/config/index.js";
import { listHosts } from "../../src/hosts/hosts.js";
import { listPacks } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { getBatch } from "../../src/store/batches.js";
import { createLogger } from "../../src/util/logger.js";
import { packageVersion } from "../../src/util/paths.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { json } from "../helpers/json.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const operations = Object.entries(
  buildOpenApi(packageVersion()).paths as Record<string, Record<string, unknown>>,
).flatMap(([path, ops]) =>
  Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "x") })),
);
const guarded = operations.filter((o) => o.path.startsWith("/api/") || o.path === "/metrics");

describe("access control", () => {
  it("every /api route and /metrics answer 401 without a token, with a wrong one, or another scheme", async () => {
    w = await makeWorld();
    const app = createApp(w.t.ctx);
    expect(guarded.length).toBe(29); // 28 /api operations and /metrics
    for (const o of guarded) {
      for (const auth of [
        undefined,
        "Bearer wrong-token-of-some-length",
        `Basic ${TEST_API_TOKEN}`,
        `Bearer ${TEST_API_TOKEN}x`,
        TEST_API_TOKEN,
      ]) {
        const res = await app.request(o.path, {
          method: o.method,
          headers: auth ? { authorization: auth } : {},
        });
        expect(res.status, `${o.method} ${o.path} with ${auth}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
  });

  it("with the token every guarded route is reachable (never 401)", async () => {
    w = await makeWorld();
    const app = createApp(w.t.ctx);
    for (const o of guarded) {
      const res = await app.request(o.path, {
        method: o.method,
        headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
      });
      expect(res.status, `${o.method} ${o.path}`).not.toBe(401);
    }
  });

  it("the open routes stay open, and every answer carries security headers", async () => {
    w = await makeWorld();
    const app = createApp(w.t.ctx);
    for (const path of ["/healthz", "/readyz", "/openapi.json", "/docs"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("strict-transport-security")).toBeTruthy();
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("a write route ignored a field it did not know ({dry_run: true} rolled back): every one now answers 400", async () => {
    w = await makeWorld();
    const app = createApp(w.t.ctx);
    const batch = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const ids: Record<string, string> = {
      host_id: w.hostId,
      pack_id: "openai-cn-pack",
      provider_id: "deepseek",
      batch_id: batch.batch_id,
    };
    const writes = Object.entries(buildOpenApi(packageVersion()).paths as Record<string, object>)
      .filter(([path]) => path.startsWith("/api/"))
      .flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => ["post", "put", "patch", "delete"].includes(m))
          .map((m) => ({
            method: m.toUpperCase(),
            path: path.replace(/\{([a-z_]+)\}/g, (_, n) => ids[n] ?? n),
          })),
      );
    expect(writes.length).toBe(16);
    const liveBefore = liveCount(w.sim);
    const hostWrites = w.sim.sim.writes.length;
    for (const o of writes) {
      const res = await app.request(o.path, {
        method: o.method,
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ dry_runn: true }),
      });
      expect(res.status, `${o.method} ${o.path}`).toBe(400);
      const { error } = await json(res);
      expect(error.code, `${o.method} ${o.path}`).toBe("INVALID_REQUEST");
      expect(error.details, `${o.method} ${o.path}`).toContainEqual({
        pointer: "/",
        message: 'unknown field "dry_runn"',
      });
    }
    // Nothing was done: no host write, the batch, the host and the pack are all still there.
    expect(liveCount(w.sim)).toBe(liveBefore);
    expect(w.sim.sim.writes.slice(hostWrites)).toEqual([]);
    expect((await getBatch(w.t.ctx, batch.batch_id)).status).toBe("succeeded");
    expect(await listHosts(w.t.ctx)).toHaveLength(1);
    expect(await listPacks(w.t.ctx)).toHaveLength(1);
  });

  it("a key pasted into a URL was written to the access log and echoed in the 404: now in neither", async () => {
    w = await makeWorld();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const ctx = await createContext({
      db: w.t.ctx.db,
      config: w.t.ctx.config,
      logger: createLogger("info", sink),
    });
    const app = createApp(ctx);
    const key = deepseekKey();
    const admin = `admin-${"5e".repeat(32)}`;
    const random = "Zq8vT2mK9pLx4RwB7nYc";
    const requests: [string, string][] = [
      ["GET", `/api/hosts/${key}`],
      ["GET", `/api/hosts/${encodeURIComponent(admin)}`],
      ["DELETE", `/api/hosts/${random}`],
      ["POST", `/api/hosts/${key}/probe`],
      ["GET", `/api/import-batches/${key}`],
      ["GET", `/api/packs/${key}/providers`],
      ["GET", `/api/providers/${key}/status`],
      ["POST", `/api/providers/${key}/reconcile`],
      ["GET", `/api/providers/deepseek/access/status?host_id=${key}`],
      ["GET", `/api/no-such-route/${key}`],
      ["GET", `/${random}/${key}`],
    ];
    for (const [method, path] of requests) {
      const res = await app.request(path, { method, headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
      const text = await res.text();
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      for (const secret of [key, admin, random]) expect(text, `${method} ${path}`).not.toContain(secret);
    }
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(logged).toHaveLength(requests.length);
    for (const secret of [key, admin, encodeURIComponent(admin), random])
      for (const l of lines) expect(l).not.toContain(secret);
    expect(logged[0].path).toBe("/api/hosts/[redacted]");
    expect(logged[4].path).toBe("/api/import-batches/[redacted]");
    // What has its route's shape is still logged as it was asked for.
    lines.length = 0;
    for (const path of [`/api/hosts/${w.hostId}`, "/api/hosts/sim", "/api/providers/deepseek/status"])
      await app.request(path, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    expect(lines.map((l) => JSON.parse(l).path)).toEqual([
      `/api/hosts/${w.hostId}`,
      "/api/hosts/sim",
      "/api/providers/deepseek/status",
    ]);
  });

  it("listens on loopback unless told otherwise", () => {
    expect(loadConfig({ RELAY_MASTER_KEY: Buffer.alloc(32, 1).toString("base64") }).listen.host).toBe(
      "127.0.0.1",
    );
  });
});
