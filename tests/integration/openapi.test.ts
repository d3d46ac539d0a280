import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, describe, expect, it } from "vitest";
import { openApiYaml } from "../../scripts/openapi.js";
import { createApp } from "../../src/api/http/app.js";
import { buildOpenApi } from "../../src/api/http/openapi.js";
import { apiRoutes } from "../../src/api/http/routes/index.js";
import { packageVersion, projectRoot } from "../../src/util/paths.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import type { Json } from "../helpers/json.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

const doc = buildOpenApi(packageVersion());
type Operation = {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
const paths = doc.paths as Record<string, Record<string, Operation>>;

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("the OpenAPI document", () => {
  it("docs/api/openapi.yaml is the one the code generates", () => {
    expect(readFileSync(join(projectRoot(), "docs", "api", "openapi.yaml"), "utf8")).toBe(openApiYaml());
  });

  // The /api paths come from the declarations the app is served from (route.ts): an /api route
  // registered beside them, or a system route served without its entry, fails here.
  it("documents every route of the app, and only those", async () => {
    w = await makeWorld();
    const app = createApp(w.t.ctx);
    const routes = new Set(
      app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:([a-z_]+)/g, "{$1}")}`),
    );
    const documented = new Set(
      Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    expect([...routes].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((d) => !routes.has(d))).toEqual([]);
    const declared = apiRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect([...routes].filter((r) => r.includes(" /api/")).sort()).toEqual([...declared].sort());
    const ids = Object.values(paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("real responses of a whole flow match their documented schemas", async () => {
    w = await makeWorld();
    const app = createApp(w.t.ctx);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: "api", components: doc.components });
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    const seen: string[] = [];

    const call = async (method: string, path: string, body?: unknown, type = "application/json") => {
      const res = await app.request(path, {
        method,
        headers: {
          authorization: `Bearer ${TEST_API_TOKEN}`,
          ...(body !== undefined ? { "content-type": type } : {}),
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const template = Object.keys(paths).find((p) =>
        new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path.split("?")[0] as string),
      );
      const op = template ? paths[template]?.[method.toLowerCase()] : undefined;
      expect(op, `${method} ${path} is documented`).toBeDefined();
      const response = op?.responses[String(res.status)];
      expect(response, `${method} ${path} → ${res.status} is documented`).toBeDefined();
      const media = Object.entries(response?.content ?? {})[0];
      if (media && media[0] === "application/json") {
        const key = `${template} ${method} ${res.status}`;
        let validate = validators.get(key);
        if (!validate) {
          const schema = media[1].schema as { $ref?: string };
          validate = ajv.compile(schema.$ref ? { $ref: `api${schema.$ref}` } : schema);
          validators.set(key, validate);
        }
        const json = await res.clone().json();
        const ok = validate(json);
        expect(ok, `${key}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
      seen.push(`${method} ${template} ${res.status}`);
      return res;
    };

    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("GET", "/readyz")).status).toBe(200);
    expect((await call("GET", "/openapi.json")).status).toBe(200);
    await call("GET", "/api/hosts");
    await call("GET", `/api/hosts/${w.hostId}`);
    await call("POST", `/api/hosts/${w.hostId}/probe`);
    await call("POST", "/api/hosts", {
      name: "dup",
      base_url: "http://example.com",
      auth: { type: "admin_api_key", token: "x" },
    });
    await call("GET", "/api/packs");
    await call("GET", "/api/packs/openai-cn-pack");
    await call("GET", "/api/packs/openai-cn-pack/providers");
    await call("POST", "/api/packs/install", { path: join(projectRoot(), "packs", "openai-cn-pack") });
    await call("POST", "/api/packs/install", {
      path: join(projectRoot(), "tests", "fixtures", "packs", "no-providers"),
    });
    const user = w.sim.sim.state.addUser({ email: "o@example.com", password: "o-password" });
    const body = {
      host_id: w.hostId,
      keys: [deepseekKey()],
      mode: "partial",
      access_mode: "subscription",
      subscription_targets: [{ user_id: user.id }],
    };
    const plan: Json = await (await call("POST", "/api/providers/deepseek/preview-import", body)).json();
    const result: Json = await (
      await call("POST", "/api/providers/deepseek/import?wait=true", {
        ...body,
        expected_fingerprint: plan.fingerprint,
      })
    ).json();
    await call("GET", "/api/providers/deepseek/import-batches");
    await call("GET", `/api/import-batches/${result.batch_id}`);
    await call("POST", "/api/providers/deepseek/access/preview", {
      host_id: w.hostId,
      users: [{ user_id: user.id }],
    });
    await call("POST", "/api/providers/deepseek/access/assign-subscriptions", {
      host_id: w.hostId,
      users: [{ user_id: user.id }],
    });
    await call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}`);
    await call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}&probe=true`);
    await call("POST", "/api/providers/deepseek/reconcile", { host_id: w.hostId });
    await call("GET", "/api/providers/deepseek/status");
    await call("GET", "/api/providers/deepseek/resources");
    await call("DELETE", `/api/hosts/${w.hostId}/probe-user?dry_run=true`);
    await call("POST", `/api/import-batches/${result.batch_id}/rollback`, { dry_run: true });
    await call("POST", `/api/import-batches/${result.batch_id}/rollback`);
    await call("DELETE", `/api/hosts/${w.hostId}/probe-user`);
    await call("GET", "/api/import-batches/nope");
    expect(seen.length).toBeGreaterThan(20);
    // /docs is Swagger UI over this same document: its page, its assets, and a strict policy.
    const page = await app.request("/docs");
    const html = await page.text();
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    // No inline script or style, nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.sort()).toEqual(["/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"]);
    for (const path of assets) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-security-policy"), path).toBe(csp);
      expect((await res.text()).length, path).toBeGreaterThan(path.endsWith("init.js") ? 50 : 10_000);
    }
    const init = await (await app.request("/docs/init.js")).text();
    expect(init).toMatch(/url: "\/openapi.json"/);
    expect(await (await app.request("/docs/swagger-ui-bundle.js")).text()).toMatch(/SwaggerUIBundle/);
  });
});
