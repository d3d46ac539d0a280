import { afterEach, describe, expect, it } from "vitest";
import type { Json } from "../helpers/json.js";
import type { ProfileName } from "../sim/sub2api/profiles.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

/**
 * The simulator against what sub2api's source says (docs/host-compatibility.md): each behaviour
 * here is one relay relies on, and each was wrong in the simulator before.
 */
let s: RunningSim | undefined;
afterEach(async () => {
  await s?.close();
});

async function sim(profile: ProfileName) {
  s = await startSimulator({ profile });
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

  it("2026 builds: omitted concurrency and priority default to 3 and 50; unknown delete is 404", async () => {
    const { s: now, call } = await sim("v0.1.179");
    const r = await call("POST", "/api/v1/admin/accounts", account([]));
    expect(r.status).toBe(200);
    const made = now.sim.state.liveAccounts()[0];
    expect(made).toMatchObject({ platform: "made-up-platform", concurrency: 3, priority: 50 });
    expect((await call("DELETE", "/api/v1/admin/accounts/424242")).status).toBe(404);
  });
});

describe("payment plans", () => {
  it.each([
    [{ group_id: 1, price: 1, validity_days: 30, validity_unit: "day" }, "PLAN_NAME_REQUIRED"],
    [{ name: "p", price: 1, validity_days: 30, validity_unit: "day" }, "PLAN_GROUP_REQUIRED"],
    [{ name: "p", group_id: 1, price: 0, validity_days: 30, validity_unit: "day" }, "PLAN_PRICE_INVALID"],
    [{ name: "p", group_id: 1, price: 1, validity_days: 0, validity_unit: "day" }, "PLAN_VALIDITY_REQUIRED"],
    [
      { name: "p", group_id: 1, price: 1, validity_days: 30, validity_unit: "fortnight" },
      "PLAN_VALIDITY_UNIT_REQUIRED",
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
