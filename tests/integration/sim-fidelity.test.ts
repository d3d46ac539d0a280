import { afterEach, describe, expect, it } from "vitest";
import type { Json } from "../helpers/json.js";
import type { ProfileName } from "../sim/sub2api/profiles.js";
import { type CreateSimOptions, type RunningSim, startSimulator } from "../sim/sub2api/server.js";

/**
 * The simulator against what sub2api's source says (docs/host-compatibility.md): each behaviour
 * here is one relay relies on, and each was wrong in the simulator before.
 */
let s: RunningSim | undefined;
afterEach(async () => {
  await s?.close();
});

async function sim(profile: ProfileName, opts: CreateSimOptions = {}) {
  s = await startSimulator({ profile, ...opts });
  const base = s.url;
  const key = s.sim.state.adminApiKey;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "x-api-key": key, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
  };
  return { s, call };
}

const account = (groupIds: number[], extra: Record<string, unknown> = {}) => ({
  name: "acct",
  platform: "made-up-platform",
  type: "apikey",
  credentials: { api_key: "sk-x", base_url: "https://api.deepseek.com" },
  group_ids: groupIds,
  ...extra,
});

describe("account create and delete", () => {
  it("create checks no platform list; an unknown group id is a 500 (Dec 2025: with the account made)", async () => {
    const { s: dec, call } = await sim("dec-2025");
    const r = await call("POST", "/api/v1/admin/accounts", account([999]));
    expect(r.status).toBe(500);
    expect(dec.sim.state.liveAccounts().map((a) => a.name)).toEqual(["acct"]);
    // An unknown id is deleted "successfully".
    expect((await call("DELETE", "/api/v1/admin/accounts/424242")).status).toBe(200);
  });

  it("2026 builds: omitted concurrency and priority default to 3 and 50; unknown delete is 200 too (account_repo.go:866-905@67380eafd)", async () => {
    const { s: now, call } = await sim("v0.1.179");
    const r = await call("POST", "/api/v1/admin/accounts", account([]));
    expect(r.status).toBe(200);
    const made = now.sim.state.liveAccounts()[0];
    expect(made).toMatchObject({ platform: "made-up-platform", concurrency: 3, priority: 50 });
    expect((await call("DELETE", "/api/v1/admin/accounts/424242")).status).toBe(200);
  });
});

describe("payment plans", () => {
  it.each([
    [{ group_id: 1, price: 1, validity_days: 30, validity_unit: "day" }, "PLAN_NAME_REQUIRED"],
    [{ name: "p", price: 1, validity_days: 30, validity_unit: "day" }, "PLAN_GROUP_REQUIRED"],
    [{ name: "p", group_id: 1, price: 0, validity_days: 30, validity_unit: "day" }, "PLAN_PRICE_INVALID"],
    [{ name: "p", group_id: 1, price: 1, validity_days: 0, validity_unit: "day" }, "PLAN_VALIDITY_REQUIRED"],
    [
      { name: "p", group_id: 1, price: 1, validity_days: 30, validity_unit: " " },
      "PLAN_VALIDITY_UNIT_REQUIRED",
    ],
    [
      { name: "p", group_id: 1, price: 1, validity_days: 30, validity_unit: "day", currency: "yuan" },
      "PLAN_CURRENCY_INVALID",
    ],
  ])("refuses %j with %s", async (body, reason) => {
    const { call } = await sim("v0.1.179");
    const r = await call("POST", "/api/v1/admin/payment/plans", body);
    expect(r.status).toBe(400);
    expect(r.body.reason).toBe(reason);
  });
});

describe("group delete", () => {
  it.each([
    ["v0.1.179", 403, "GROUP_DELETED"],
    ["dec-2025", 403, undefined],
  ] as const)("%s: a user's key to a deleted group", async (profile, status, code) => {
    const { s: h, call } = await sim(profile);
    const g = await call("POST", "/api/v1/admin/groups", {
      name: "team",
      platform: "openai",
      subscription_type: "standard",
    });
    const user = h.sim.state.addUser({ email: "u@example.com", password: "pw-123456", balance: 10 });
    const now = Date.now();
    h.sim.state.apiKeys.set(9001, {
      id: 9001,
      userId: user.id,
      key: "sk-user-key",
      name: "k",
      groupId: g.body.data.id,
      status: "active",
      createdAt: now,
      updatedAt: now,
    });
    expect((await call("DELETE", `/api/v1/admin/groups/${g.body.data.id}`)).status).toBe(200);
    // Soft delete (0.1.129+) keeps the key bound; older builds unbind it.
    expect(h.sim.state.apiKeys.get(9001)?.groupId).toBe(profile === "v0.1.179" ? g.body.data.id : null);
    const chat = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-user-key", "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    if (profile === "dec-2025") {
      expect(chat.status).toBe(404); // Dec 2025 has no /v1/chat/completions at all
      return;
    }
    expect(chat.status).toBe(status);
    expect(((await chat.json()) as { code?: string }).code).toBe(code);
  });
});

/** Cited in docs/evidence/sub2api-fidelity-2026-12.md. */
describe("idempotency on extend and user key create (subscription_handler.go:204-217, api_key_handler.go:220@67380eafd)", () => {
  async function subscribed(opts: CreateSimOptions = {}) {
    const h = await sim("v0.1.179", opts);
    const g = await h.call("POST", "/api/v1/admin/groups", {
      name: "sub",
      platform: "openai",
      subscription_type: "subscription",
      rate_multiplier: 1,
    });
    const u = h.s.sim.state.addUser({ email: "i@example.com", password: "pw-123456" });
    const a = await h.call("POST", "/api/v1/admin/subscriptions/assign", {
      user_id: u.id,
      group_id: g.body.data.id,
      validity_days: 30,
    });
    return { ...h, subId: a.body.data.id as number, groupId: g.body.data.id as number };
  }

  it("observe_only false: a keyless extend is 400 IDEMPOTENCY_KEY_REQUIRED; a replay is flagged and adds nothing", async () => {
    const { s: h, call, subId } = await subscribed({ idempotencyRequired: true });
    const path = `/api/v1/admin/subscriptions/${subId}/extend`;
    const keyless = await call("POST", path, { days: 10 });
    expect(keyless).toMatchObject({ status: 400, body: { reason: "IDEMPOTENCY_KEY_REQUIRED" } });
    const sub = h.sim.state.subscriptions.get(subId);
    const before = sub?.expiresAt ?? 0;
    const first = await fetch(`${h.url}${path}`, {
      method: "POST",
      headers: {
        "x-api-key": h.sim.state.adminApiKey,
        "content-type": "application/json",
        "idempotency-key": "k1",
      },
      body: JSON.stringify({ days: 10 }),
    });
    const again = await fetch(`${h.url}${path}`, {
      method: "POST",
      headers: {
        "x-api-key": h.sim.state.adminApiKey,
        "content-type": "application/json",
        "idempotency-key": "k1",
      },
      body: JSON.stringify({ days: 10 }),
    });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(first.headers.get("x-idempotency-replayed")).toBeNull();
    expect(again.headers.get("x-idempotency-replayed")).toBe("true");
    expect(Math.round(((sub?.expiresAt ?? 0) - before) / 86_400_000)).toBe(10);
  });

  it("observe_only false: a keyless user key create is refused; a logged-out one is still 401 first", async () => {
    const { s: h } = await subscribed({ idempotencyRequired: true });
    const login = await fetch(`${h.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "i@example.com", password: "pw-123456" }),
    });
    const token = ((await login.json()) as Json).data.access_token as string;
    const create = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/v1/keys`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ name: "k" }),
      });
    expect((await create({})).status).toBe(401);
    const keyless = await create({ authorization: `Bearer ${token}` });
    expect(keyless.status).toBe(400);
    const once = await create({ authorization: `Bearer ${token}`, "idempotency-key": "kk" });
    const twice = await create({ authorization: `Bearer ${token}`, "idempotency-key": "kk" });
    expect(twice.headers.get("x-idempotency-replayed")).toBe("true");
    expect(((await twice.json()) as Json).data.id).toBe(((await once.json()) as Json).data.id);
    expect(h.sim.state.liveKeys()).toHaveLength(1);
  });

  it.each([
    [0, 400],
    [-5, 200],
    [-36501, 400],
    [36500, 200],
    [36501, 400],
  ])(
    "extend days %d → %d (binding required,min=-36500,max=36500, subscription_handler.go:57-60)",
    async (days, status) => {
      const { call, subId } = await subscribed();
      expect((await call("POST", `/api/v1/admin/subscriptions/${subId}/extend`, { days })).status).toBe(
        status,
      );
    },
  );
});

describe("accounts as sub2api's 2026 source reads (67380eafd)", () => {
  async function withAccounts() {
    const h = await sim("v0.1.179");
    const g1 = await h.call("POST", "/api/v1/admin/groups", {
      name: "g1",
      platform: "openai",
      rate_multiplier: 1,
    });
    const g2 = await h.call("POST", "/api/v1/admin/groups", {
      name: "g2",
      platform: "deepseek",
      rate_multiplier: 1,
    });
    const a = await h.call("POST", "/api/v1/admin/accounts", {
      ...account([g1.body.data.id]),
      platform: "openai",
      extra: { openai_responses_mode: "force_chat_completions" },
    });
    return {
      ...h,
      g1: g1.body.data.id as number,
      g2: g2.body.data.id as number,
      id: a.body.data.id as number,
    };
  }

  it("bulk-update: one unknown group fails the whole call 404 GROUP_NOT_FOUND; bindings are replaced", async () => {
    const { s: h, call, g1, g2, id } = await withAccounts();
    const bad = await call("POST", "/api/v1/admin/accounts/bulk-update", {
      account_ids: [id],
      group_ids: [g2, 999],
    });
    expect(bad).toMatchObject({ status: 404, body: { reason: "GROUP_NOT_FOUND" } });
    expect(h.sim.state.accounts.get(id)?.groupIds).toEqual([g1]);
    const ok = await call("POST", "/api/v1/admin/accounts/bulk-update", {
      account_ids: [id],
      group_ids: [g2],
    });
    expect(ok.status).toBe(200);
    expect(h.sim.state.accounts.get(id)?.groupIds).toEqual([g2]);
  });

  it("update binds a group of another platform (no platform check)", async () => {
    const { call, g2, id } = await withAccounts();
    expect((await call("PUT", `/api/v1/admin/accounts/${id}`, { group_ids: [g2] })).status).toBe(200);
  });

  it("a 401 in the account test sets status=error and schedulable=false; a later passing test restores status only", async () => {
    const { s: h, call, id } = await withAccounts();
    h.sim.upstream.revoke("sk-x");
    const failed = await fetch(`${h.url}/api/v1/admin/accounts/${id}/test`, {
      method: "POST",
      headers: { "x-api-key": h.sim.state.adminApiKey, "content-type": "application/json" },
      body: JSON.stringify({ model_id: "deepseek-flash" }),
    });
    expect(await failed.text()).toMatch(/Chat Completions API \(\/v1\/chat\/completions\) returned 401/);
    expect(h.sim.state.accounts.get(id)).toMatchObject({ status: "error", schedulable: false });
    h.sim.upstream.restore("sk-x");
    await (await call("POST", `/api/v1/admin/accounts/${id}/test`, { model_id: "deepseek-flash" })).body;
    expect(h.sim.state.accounts.get(id)).toMatchObject({ status: "active", schedulable: false });
  });

  it("model preview: unsupported platforms 400 by name; a refused key 502 'Upstream model list request failed with HTTP 401'", async () => {
    const { s: h, call } = await withAccounts();
    const body = {
      platform: "anthropic",
      type: "apikey",
      base_url: "https://api.deepseek.com",
      api_key: "sk-x",
    };
    const anthropic = await call("POST", "/api/v1/admin/accounts/models/sync-upstream-preview", body);
    expect(anthropic).toMatchObject({
      status: 400,
      body: { message: "Unsupported platform for upstream model sync: anthropic" },
    });
    h.sim.upstream.revoke("sk-x");
    const refused = await call("POST", "/api/v1/admin/accounts/models/sync-upstream-preview", {
      ...body,
      platform: "deepseek",
    });
    expect(refused).toMatchObject({
      status: 502,
      body: { message: "Upstream model list request failed with HTTP 401" },
    });
  });
});

describe("subscriptions (subscription_service.go:521-536@67380eafd)", () => {
  it("assign over an expired subscription renews it in place and answers it as reused", async () => {
    const { s: h, call } = await sim("v0.1.179");
    const g = await call("POST", "/api/v1/admin/groups", {
      name: "sub",
      platform: "openai",
      subscription_type: "subscription",
      rate_multiplier: 1,
    });
    const u = h.sim.state.addUser({ email: "e@example.com", password: "pw-123456" });
    const body = { user_ids: [u.id], group_id: g.body.data.id, validity_days: 30, notes: "old" };
    const first = await call("POST", "/api/v1/admin/subscriptions/bulk-assign", body);
    const id = first.body.data.subscriptions[0].id as number;
    const held = h.sim.state.subscriptions.get(id);
    if (!held) throw new Error("no subscription");
    Object.assign(held, { status: "expired", expiresAt: Date.now() - 1000 });
    const again = await call("POST", "/api/v1/admin/subscriptions/bulk-assign", { ...body, notes: "new" });
    expect(again.body.data.statuses).toEqual({ [u.id]: "reused" });
    expect(again.body.data.subscriptions[0]).toMatchObject({ id, status: "active", notes: "new" });
    expect(h.sim.state.subscriptions.size).toBe(1);
  });
});

describe("security.url_allowlist (config.go:2021-2033, account_test_service.go:185-200,332-336@67380eafd)", () => {
  it("the account test and the model preview refuse a base URL whose host is not in upstream_hosts", async () => {
    const { s: h, call } = await sim("v0.1.179", { urlAllowlist: true });
    const made = await call("POST", "/api/v1/admin/accounts", account([]));
    const test = await fetch(`${h.url}/api/v1/admin/accounts/${made.body.data.id}/test`, {
      method: "POST",
      headers: { "x-api-key": h.sim.state.adminApiKey, "content-type": "application/json" },
      body: "{}",
    });
    expect(await test.text()).toContain("Invalid base URL: host is not allowed: api.deepseek.com");
    const preview = await call("POST", "/api/v1/admin/accounts/models/sync-upstream-preview", {
      platform: "deepseek",
      type: "apikey",
      base_url: "https://api.deepseek.com",
      api_key: "sk-x",
    });
    expect(preview).toMatchObject({
      status: 400,
      // Seen live on 67380eafd (2026-12-02): the preview names no reason.
      body: { message: "Invalid OpenAI base URL" },
    });
    const kimi = await call("POST", "/api/v1/admin/accounts/models/sync-upstream-preview", {
      platform: "kimi",
      type: "apikey",
      base_url: "https://api.moonshot.cn/v1",
      api_key: "sk-x",
    });
    expect(kimi.status).toBe(200);
  });
});

describe("runtime pauses (ratelimit_cn_providers.go:54-79,122-141, ratelimit_service.go case 402, dto/types.go:223-230@67380eafd)", () => {
  // The 402 cases were met live on 2bc139ab5, 67380eafd and 49504adc9 (tests/live/host-pause.live.test.ts).
  it.each([
    [429, "deepseek", {}, { status: "active", schedulable: true, rate_limit_reset_at: expect.any(String) }],
    [
      402,
      "deepseek",
      {},
      {
        status: "active",
        schedulable: true,
        temp_unschedulable_until: expect.any(String),
        temp_unschedulable_reason: "cn_balance_low: Insufficient Balance",
      },
    ],
    [
      402,
      "openai",
      // relay's fallback account: the gateway sends chat completions unchanged.
      { openai_responses_mode: "force_chat_completions" },
      { status: "error", schedulable: false, error_message: "Payment required (402): Insufficient Balance" },
    ],
  ] as const)(
    "an upstream %d in the gateway on a %s account pauses it as the host does",
    async (code, platform, extra, expected) => {
      const { s: h, call } = await sim("v0.1.179");
      const g = await call("POST", "/api/v1/admin/groups", {
        name: "g",
        platform,
        rate_multiplier: 1,
      });
      const made = await call("POST", "/api/v1/admin/accounts", {
        ...account([g.body.data.id], { extra }),
        platform,
      });
      const user = h.sim.state.addUser({ email: "p@example.com", password: "pw-123456", balance: 10 });
      const now = Date.now();
      h.sim.state.apiKeys.set(77, {
        id: 77,
        userId: user.id,
        key: "sk-user-77",
        name: "k",
        groupId: g.body.data.id,
        status: "active",
        createdAt: now,
        updatedAt: now,
      });
      h.sim.upstream.failing.set("sk-x", code);
      const chat = () =>
        fetch(`${h.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: "Bearer sk-user-77", "content-type": "application/json" },
          body: JSON.stringify({ model: "deepseek-chat", messages: [{ role: "user", content: "hi" }] }),
        });
      await chat();
      const listed = await call("GET", "/api/v1/admin/accounts");
      const a = listed.body.data.items.find((x: Json) => x.id === made.body.data.id);
      expect(a).toMatchObject(expected);
      // The scheduler skips it now: no other account, so 503.
      h.sim.upstream.failing.delete("sk-x");
      expect((await chat()).status).toBe(503);
    },
  );
});

describe("user delete (user_handler.go:366-382, admin_user.go:351-394,422-440@67380eafd; admin_service.go:360-370@d3e73f1)", () => {
  const key = (userId: number, now: number) => ({
    id: 0,
    userId,
    key: `sk-user-${userId}`,
    name: "k",
    groupId: null,
    status: "active" as const,
    createdAt: now,
    updatedAt: now,
  });
  for (const [profile, takesKeys] of [
    ["v0.1.179", true],
    ["v0.1.126", false],
  ] as const) {
    it(`${profile}: soft delete${takesKeys ? " with its keys" : ", keys kept"}, subscriptions kept; again 404 USER_NOT_FOUND; an admin 500; the address is free again`, async () => {
      const { s: host, call } = await sim(profile);
      const st = host.sim.state;
      const u = st.addUser({ email: "gone@example.com", password: "gone-pass-1" });
      const now = Date.now();
      const k = { ...key(u.id, now), id: st.nextId("api_keys") };
      st.apiKeys.set(k.id, k);
      expect((await call("DELETE", `/api/v1/admin/users/${u.id}`)).status).toBe(200);
      expect(st.users.get(u.id)?.deletedAt).toBeDefined();
      expect(st.apiKeys.get(k.id)?.deletedAt !== undefined).toBe(takesKeys);
      const again = await call("DELETE", `/api/v1/admin/users/${u.id}`);
      expect(again).toMatchObject({ status: 404, body: { reason: "USER_NOT_FOUND" } });
      const admin = [...st.users.values()].find((x) => x.role === "admin");
      const refused = await call("DELETE", `/api/v1/admin/users/${admin?.id}`);
      expect(refused).toMatchObject({ status: 500, body: { message: "internal error" } });
      expect(admin?.deletedAt).toBeUndefined();
      const back = await call("POST", "/api/v1/admin/users", {
        email: "gone@example.com",
        password: "again-pass",
      });
      expect(back.status).toBe(200);
    });
  }
});
