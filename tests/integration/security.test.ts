import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { buildOpenApi } from "../../src/api/http/openapi.js";
import { loadConfig } from "../../src/config/index.js";
import { packageVersion } from "../../src/util/paths.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { makeWorld, type World } from "../helpers/world.js";

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
    expect(guarded.length).toBe(23); // 22 /api operations and /metrics
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

  it("listens on loopback unless told otherwise", () => {
    expect(loadConfig({ RELAY_MASTER_KEY: Buffer.alloc(32, 1).toString("base64") }).listen.host).toBe(
      "127.0.0.1",
    );
  });
});
