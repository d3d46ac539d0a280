import { createServer } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { makeTestEnv, rowCount, storedBytes, TEST_API_TOKEN, type TestEnv } from "../helpers/context.js";
import { json } from "../helpers/json.js";
import { freePort } from "../helpers/net.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

let t: TestEnv;
let sims: RunningSim[] = [];
beforeEach(async () => {
  t = await makeTestEnv();
  sims = [];
});
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  await t.cleanup();
});

async function sim(opts: Parameters<typeof startSimulator>[0] = {}) {
  const s = await startSimulator(opts);
  sims.push(s);
  return s;
}

function api(method: string, path: string, body?: unknown, token: string | null = TEST_API_TOKEN) {
  const app = createApp(t.ctx);
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

const addBody = (s: RunningSim, name = "h1", token = s.sim.state.adminApiKey) => ({
  name,
  base_url: s.url,
  auth: { type: "admin_api_key", token },
});

describe("POST /api/hosts against each simulator profile", () => {
  it("cn-native (0.1.179): supported with channels, plans and chat completions", async () => {
    const s = await sim({ profile: "cn-native" });
    const res = await api("POST", "/api/hosts", addBody(s));
    expect(res.status).toBe(201);
    const host = await json(res);
    expect(host).toMatchObject({
      name: "h1",
      version: "0.1.179",
      status: "supported",
      profile: "cn-native",
      status_reasons: [],
    });
    expect(host.capabilities).toMatchObject({
      channels: true,
      plans: true,
      chat_completions: true,
      batch_delete: true,
      idempotency: true,
    });
    expect(host.capabilities.cn_platforms).toEqual(["deepseek", "kimi", "zhipu"]);
    expect(host.admin_key_hint).toMatch(/^admin-…[0-9a-f]{4}$/);
    expect(JSON.stringify(host)).not.toContain(s.sim.state.adminApiKey);
  });

  it("openai-compat (0.1.150): supported without CN platforms or batch delete", async () => {
    const s = await sim({ profile: "openai-compat" });
    const host = await json(api("POST", "/api/hosts", addBody(s)));
    expect(host).toMatchObject({ version: "0.1.150", status: "supported", profile: "openai-compat" });
    expect(host.capabilities).toMatchObject({ cn_platforms: [], batch_delete: false, idempotency: true });
    expect(host.warnings.map((w: { code: string }) => w.code)).toContain("NO_CN_PLATFORMS");
  });

  it("legacy (Dec 2025, 0.1.27): chat_completions false and the consequence stated", async () => {
    const s = await sim({ profile: "legacy" });
    const host = await json(api("POST", "/api/hosts", addBody(s)));
    expect(host).toMatchObject({ version: "0.1.27", status: "supported", profile: "legacy" });
    expect(host.capabilities).toMatchObject({
      chat_completions: false,
      channels: false,
      plans: false,
      batch_delete: false,
      idempotency: false,
      max_page_size: 100,
    });
    const warning = host.warnings.find((w: { code: string }) => w.code === "NO_CHAT_COMPLETIONS");
    expect(warning.message).toMatch(/access will be reported as not verifiable/);
  });
});

describe("which shipped providers each release can serve (host view, shipped pack installed)", () => {
  const fallback = { status: "supported", mode: "fallback", platform: "openai" };
  const native = (platform: string) => ({ status: "supported", mode: "native", platform });
  const refused = (reason_code: string, first_working_version: string) => ({
    status: "unsupported",
    reason_code,
    first_working_version,
  });
  it.each([
    [
      "dec-2025",
      {
        deepseek: refused("NO_CHAT_COMPLETIONS", "0.1.130"),
        zhipu: refused("NO_CHAT_COMPLETIONS", "0.1.130"),
      },
    ],
    [
      "v0.1.126",
      {
        deepseek: refused("FALLBACK_UNAVAILABLE", "0.1.130"),
        qwen: refused("FALLBACK_UNAVAILABLE", "0.1.130"),
      },
    ],
    [
      "v0.1.150",
      {
        deepseek: fallback,
        kimi: fallback,
        minimax: fallback,
        qwen: fallback,
        zhipu: fallback,
      },
    ],
    [
      "v0.1.178",
      {
        deepseek: fallback,
        kimi: fallback,
        zhipu: fallback,
        minimax: fallback,
        qwen: fallback,
      },
    ],
    [
      "v0.1.179",
      {
        deepseek: native("deepseek"),
        kimi: native("kimi"),
        zhipu: native("zhipu"),
        minimax: fallback,
        qwen: fallback,
      },
    ],
  ] as const)("%s", async (profile, expected) => {
    const { installPack } = await import("../../src/packs/packs.js");
    const { projectRoot } = await import("../../src/util/paths.js");
    const { join } = await import("node:path");
    await installPack(t.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
    const s = await sim({ profile });
    const host = await json(api("POST", "/api/hosts", addBody(s)));
    expect(host.version).toBe(s.sim.profile.version);
    const byId = Object.fromEntries(host.providers.map((p: { provider_id: string }) => [p.provider_id, p]));
    expect(Object.keys(byId).sort()).toEqual([
      "deepseek",
      "kimi",
      "kimi-intl",
      "minimax",
      "minimax-intl",
      "qwen",
      "qwen-intl",
      "qwen-us",
      "zhipu",
      "zhipu-intl",
    ]);
    for (const [id, want] of Object.entries(expected)) expect(byId[id], id).toMatchObject(want);
    for (const p of host.providers) {
      if (p.status === "unsupported") expect(p.reason).toMatch(/\S{10,}/);
    }
  });
});

describe("list endpoints paginate", () => {
  it("?limit and ?cursor walk the hosts page by page; a bad limit or cursor is refused", async () => {
    const s = await sim();
    for (const name of ["a1", "a2", "a3"]) await api("POST", "/api/hosts", addBody(s, name));
    const first = await json(api("GET", "/api/hosts?limit=2"));
    expect(first.items.map((h: { name: string }) => h.name)).toEqual(["a1", "a2"]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await json(api("GET", `/api/hosts?limit=2&cursor=${first.next_cursor}`));
    expect(second.items.map((h: { name: string }) => h.name)).toEqual(["a3"]);
    expect(second.next_cursor).toBeNull();
    expect((await api("GET", "/api/hosts?limit=0")).status).toBe(400);
    expect((await api("GET", "/api/hosts?cursor=bogus")).status).toBe(400);
  });
});

describe("refusals store nothing", () => {
  it("a wrong admin key: 502 HOST_AUTH_FAILED, no row", async () => {
    const s = await sim();
    const res = await api("POST", "/api/hosts", addBody(s, "h1", `admin-${"0".repeat(64)}`));
    expect(res.status).toBe(502);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "HOST_AUTH_FAILED" });
    expect(body.error.hint).toMatch(/admin API key/i);
    expect(body.error.request_id).toBeTruthy();
    expect(await rowCount(t.ctx, "hosts")).toBe(0);
    expect(await rowCount(t.ctx, "host_capability_snapshots")).toBe(0);
  });

  it.each([
    { message: "db_password=hunter2 internal" },
    { error: "db_password=hunter2 internal" },
    { error: { message: "db_password=hunter2 internal", type: "server_error" } },
    { code: "db_password=hunter2", message: "internal" },
    { code: 500, message: "internal", detail: "db_password=hunter2" },
    { status: 500, error: "Internal Server Error", message: "db_password=hunter2", path: "/api/v1" },
  ])("a service that is not sub2api answering 500 %j: described, never quoted", async (answer) => {
    const text = JSON.stringify(answer);
    const fake = createServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end(text);
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const port = (fake.address() as { port: number }).port;
      const res = await api("POST", "/api/hosts", {
        name: "internal",
        base_url: `http://127.0.0.1:${port}`,
        auth: { type: "admin_api_key", token: `admin-${"ab".repeat(32)}` },
      });
      const body = await res.text();
      expect(res.status).toBe(502);
      expect(body).not.toMatch(/hunter2|db_password|internal"|Internal Server/);
      expect(body).toContain(
        `500 with JSON that is not a sub2api error (application/json, ${text.length} bytes)`,
      );
      expect(await rowCount(t.ctx, "hosts")).toBe(0);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it("a probe email with control characters was accepted: refused before any host call, never echoed", async () => {
    const s = await sim();
    const withUser = (email: string, name = "h1") => ({
      ...addBody(s, name),
      probe_identity: "user",
      probe_user: { email, password: "probe-password" },
    });
    for (const email of [
      "probe\u0000@example.com",
      "probe\u001b[2J@example.com",
      "probe@exam\u202eple.com",
      "probe@example.com\u0007",
      "pro\u00adbe@example.com",
      "probe@@example.com",
      "@example.com",
      "probe@",
      "probe@exa mple.com",
    ]) {
      const before = s.sim.requestCount;
      const res = await api("POST", "/api/hosts", withUser(email));
      expect(res.status, JSON.stringify(email)).toBe(400);
      const { error } = await json(res);
      expect(error.code).toBe("INVALID_PROBE_EMAIL");
      const said = `${error.message} ${error.hint}`;
      expect([...said].filter((ch) => ch < " " || "\u007f\u00ad\u202e".includes(ch))).toEqual([]);
      expect(said).not.toMatch(/probe@@|exa mple/);
      expect(s.sim.requestCount).toBe(before);
    }
    expect(await rowCount(t.ctx, "hosts")).toBe(0);
    const ok = await api("POST", "/api/hosts", withUser("probe+relay@example.com"));
    expect(ok.status).toBe(201);
    expect((await json(ok)).probe_identity).toBe("user");
  });

  it("an unreachable URL: 502 HOST_UNREACHABLE, no row", async () => {
    const port = await freePort();
    const res = await api("POST", "/api/hosts", {
      name: "gone",
      base_url: `http://127.0.0.1:${port}`,
      auth: { type: "admin_api_key", token: "admin-x" },
    });
    expect(res.status).toBe(502);
    expect((await json(res)).error.code).toBe("HOST_UNREACHABLE");
    expect(await rowCount(t.ctx, "hosts")).toBe(0);
  });

  it.each([
    ["http://sub2api.example.com", "INSECURE_BASE_URL"],
    ["file:///etc/passwd", "INVALID_BASE_URL"],
    ["javascript:alert(1)", "INVALID_BASE_URL"],
    ["https://user:pass@sub2api.example.com", "INVALID_BASE_URL"],
    ["not a url", "INVALID_BASE_URL"],
  ])("a bad base URL %s: 400 %s, no row", async (url, code) => {
    const res = await api("POST", "/api/hosts", {
      name: "bad",
      base_url: url,
      auth: { type: "admin_api_key", token: "admin-x" },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe(code);
    expect(await rowCount(t.ctx, "hosts")).toBe(0);
  });

  it("invalid bodies: every problem reported with a pointer", async () => {
    const res = await api("POST", "/api/hosts", { name: 5, auth: { type: "basic" }, extra: true });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("INVALID_REQUEST");
    const pointers = body.error.details.map((d: { pointer: string }) => d.pointer);
    expect(pointers).toEqual(expect.arrayContaining(["/", "/name", "/auth"]));
    expect(await rowCount(t.ctx, "hosts")).toBe(0);
  });

  it("a duplicate name: 409", async () => {
    const s = await sim();
    expect((await api("POST", "/api/hosts", addBody(s))).status).toBe(201);
    const res = await api("POST", "/api/hosts", addBody(s));
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("HOST_EXISTS");
    expect(await rowCount(t.ctx, "hosts")).toBe(1);
  });
});

describe("blocked hosts", () => {
  it("a compliance-locked host is stored unsupported with what to do; a probe after acceptance makes it supported", async () => {
    const s = await sim({ complianceLocked: true });
    const res = await api("POST", "/api/hosts", addBody(s));
    expect(res.status).toBe(201);
    const host = await json(res);
    expect(host.status).toBe("unsupported");
    expect(host.blockers).toEqual(["compliance_ack_required"]);
    expect(host.version).toBe("0.1.179");
    expect(host.status_reasons[0]).toMatchObject({ code: "COMPLIANCE_ACK_REQUIRED" });
    expect(host.status_reasons[0].hint).toMatch(/accept it in the sub2api admin panel/);
    expect(s.sim.state.complianceAcknowledged).toBe(false); // relay never accepts on anyone's behalf

    s.sim.state.complianceAcknowledged = true; // an operator accepted it in the panel
    const probed = await json(api("POST", `/api/hosts/${host.host_id}/probe`));
    expect(probed.status).toBe("supported");
    expect(await rowCount(t.ctx, "host_capability_snapshots")).toBe(2);
  });

  it("the step-up build is unsupported: API-key automation cannot manage accounts or users", async () => {
    const s = await sim({ stepUpVariant: true });
    const host = await json(api("POST", "/api/hosts", addBody(s)));
    expect(host.status).toBe("unsupported");
    expect(host.blockers).toContain("step_up_forbidden");
    expect(host.status_reasons.map((r: { code: string }) => r.code)).toContain("STEP_UP_FORBIDDEN");
  });
});

describe("reading hosts", () => {
  it("lists, shows by id or name, and keeps snapshot history on every probe", async () => {
    const s = await sim();
    const created = await json(api("POST", "/api/hosts", addBody(s)));
    expect((await json(api("GET", "/api/hosts"))).items).toHaveLength(1);
    expect((await json(api("GET", `/api/hosts/${created.host_id}`))).name).toBe("h1");
    expect((await json(api("GET", "/api/hosts/h1"))).host_id).toBe(created.host_id);
    expect((await api("GET", "/api/hosts/nope")).status).toBe(404);
    await api("POST", "/api/hosts/h1/probe");
    await api("POST", "/api/hosts/h1/probe");
    expect(await rowCount(t.ctx, "host_capability_snapshots")).toBe(3);
  });
});

describe("authentication", () => {
  it("every /api route needs the bearer token; health routes do not", async () => {
    expect((await api("GET", "/api/hosts", undefined, null)).status).toBe(401);
    const wrong = await api("GET", "/api/hosts", undefined, "wrong-token-wrong-token");
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error.code).toBe("UNAUTHORIZED");
    expect((await api("POST", "/api/hosts/x/probe", undefined, null)).status).toBe(401);
    expect((await api("GET", "/healthz", undefined, null)).status).toBe(200);
    expect((await api("GET", "/readyz", undefined, null)).status).toBe(200);
  });

  it("sets security headers", async () => {
    const res = await api("GET", "/healthz", undefined, null);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});

describe("secrets at rest", () => {
  it("the store holds no admin token in plaintext, byte for byte (the SQLite file; every row on PostgreSQL)", async () => {
    const s = await sim();
    await api("POST", "/api/hosts", addBody(s));
    await api("POST", "/api/hosts/h1/probe");
    const bytes = await storedBytes(t);
    const key = s.sim.state.adminApiKey;
    expect(bytes.includes(Buffer.from(key))).toBe(false);
    expect(bytes.includes(Buffer.from(key.slice(6)))).toBe(false); // nor its 64 hex characters
    expect(bytes.includes(Buffer.from(key.slice(6, 30)))).toBe(false);
  });
});

describe("hosts under load and faults", () => {
  it("a host whose panel rate limiter refuses admin traffic is unsupported with RATE_LIMITED", async () => {
    const s = await sim({ adminRpm: 4 });
    const host = await json(api("POST", "/api/hosts", addBody(s)));
    expect(host.status).toBe("unsupported");
    expect(host.blockers).toContain("rate_limited");
    expect(host.status_reasons.map((r: { code: string }) => r.code)).toContain("RATE_LIMITED");
  });

  it("onboarding survives injected 5xx on reads (retried) and still reads the host right", async () => {
    const s = await sim({ profile: "cn-native", faults: { errorRate: 0.2, seed: 7, match: /^GET / } });
    const host = await json(api("POST", "/api/hosts", addBody(s)));
    expect(host).toMatchObject({ status: "supported", version: "0.1.179" });
    expect(host.capabilities).toMatchObject({ channels: true, chat_completions: true });
  });
});

describe("error hints over the API", () => {
  it("'error hints name CLI commands': the API names its own routes", async () => {
    const { act, hint } = await import("../../src/domain/hints.js");
    expect(hint`Fix what blocks it, then run ${act.hostProbe("prod")}.`).toEqual({
      cli: "Fix what blocks it, then run `relay host probe prod`.",
      api: "Fix what blocks it, then run `POST /api/hosts/prod/probe`.",
    });
    expect(hint`Run ${act.batchRollback("b_1")} again once the host is healthy.`.api).toBe(
      "Run `POST /api/import-batches/b_1/rollback` again once the host is healthy.",
    );
    // A command without an API equivalent is named as it is.
    expect(hint`${act.batchRecover()}`).toEqual({
      cli: "`relay batch recover`",
      api: "`relay batch recover`",
    });
    const s = await sim({ complianceLocked: true });
    await api("POST", "/api/hosts", addBody(s, "locked"));
    const res = await api("POST", "/api/providers/deepseek/preview-import", {
      host_id: "locked",
      keys: ["sk-x"],
    });
    const body = await json(res);
    expect(body.error.hint ?? "").not.toMatch(/`relay /);
    expect(body.error.hint).toBe("Install a pack that defines it with `POST /api/packs/install`.");
  });
});
