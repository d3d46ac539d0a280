import { afterEach, describe, expect, it } from "vitest";
import type { Json } from "../helpers/json.js";
import type { ProfileName } from "../sim/sub2api/profiles.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

/**
 * The simulator against what real sub2api builds answered to hand-made calls on 2026-12-02
 * (0.1.179 `2bc139ab5` and upstream main `67380eafd`; docs/host-compatibility.md, "Verified by
 * hand"): an account's credentials replaced, a user deleted, a model name mapped by a channel and
 * by an account. Each case was answered the same way by both builds.
 */
let s: RunningSim | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const UPSTREAM = "https://api.deepseek.com";

async function host(profile: ProfileName = "v0.1.179") {
  s = await startSimulator({ profile });
  const sim = s.sim;
  const base = s.url;
  const call = async (method: string, path: string, body?: unknown, auth?: string) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : { "x-api-key": sim.state.adminApiKey }),
        "content-type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
  };
  // The fake upstream of the hand check: it serves "new-model" only.
  sim.upstream.setModels(UPSTREAM, ["new-model"]);
  const group = (await call("POST", "/api/v1/admin/groups", { name: "g", platform: "deepseek" })).body.data;
  const channel = (
    await call("POST", "/api/v1/admin/channels", {
      name: "ch",
      group_ids: [group.id],
      model_pricing: [
        {
          platform: "deepseek",
          models: ["old-model", "new-model"],
          billing_mode: "token",
          input_price: 1e-6,
          output_price: 2e-6,
        },
      ],
    })
  ).body.data;
  const account = (
    await call("POST", "/api/v1/admin/accounts", {
      name: "acc",
      platform: "deepseek",
      type: "apikey",
      credentials: { api_key: "sk-old", base_url: UPSTREAM },
      concurrency: 2,
      priority: 1,
      group_ids: [group.id],
    })
  ).body.data;
  const user = (await call("POST", "/api/v1/admin/users", { email: "a@example.com", password: "pw-123456" }))
    .body.data;
  sim.state.users.get(user.id)!.balance = 10;
  const now = Date.now();
  sim.state.apiKeys.set(77, {
    id: 77,
    userId: user.id,
    key: "sk-user-77",
    name: "k",
    groupId: group.id,
    status: "active",
    createdAt: now,
    updatedAt: now,
  });
  const chat = (model: string, key = "sk-user-77") =>
    call("POST", "/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }] }, key);
  return { sim, call, chat, group, channel, account, user };
}

describe("model names through a channel and an account (met live 2026-12-02)", () => {
  it("no mapping: the upstream gets old-model and its 400 reaches the client", async () => {
    const h = await host();
    const r = await h.chat("old-model");
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      type: "invalid_request_error",
      message: "Model Not Exist: old-model",
    });
    expect(h.sim.upstream.askedModels).toEqual(["old-model"]);
  });

  it("a channel mapping is platform-keyed: a flat one is refused 400; {deepseek: {old: new}} serves old-model as new-model", async () => {
    const h = await host();
    const flat = await h.call("PUT", `/api/v1/admin/channels/${h.channel.id}`, {
      model_mapping: { "old-model": "new-model" },
    });
    expect(flat.status).toBe(400);
    expect(flat.body).toMatchObject({
      reason: "VALIDATION_ERROR",
      message:
        "json: cannot unmarshal string into Go struct field updateChannelRequest.model_mapping of type map[string]string",
    });
    const put = await h.call("PUT", `/api/v1/admin/channels/${h.channel.id}`, {
      model_mapping: { deepseek: { "old-model": "new-model" } },
    });
    expect(put.body.data.model_mapping).toEqual({ deepseek: { "old-model": "new-model" } });
    const r = await h.chat("old-model");
    expect(r.status).toBe(200);
    expect(r.body.model).toBe("new-model");
    expect(h.sim.upstream.askedModels).toEqual(["new-model"]);
    // An update with an empty mapping clears it.
    await h.call("PUT", `/api/v1/admin/channels/${h.channel.id}`, { model_mapping: {} });
    expect((await h.chat("old-model")).status).toBe(400);
  });

  it("an account mapping {old: new} serves old-model and makes new-model 404 model_not_found", async () => {
    const h = await host();
    await h.call("PUT", `/api/v1/admin/accounts/${h.account.id}`, {
      credentials: { api_key: "sk-old", base_url: UPSTREAM, model_mapping: { "old-model": "new-model" } },
    });
    const ok = await h.chat("old-model");
    expect(ok.status).toBe(200);
    expect(ok.body.model).toBe("new-model");
    const refused = await h.chat("new-model");
    expect(refused.status).toBe(404);
    expect(refused.body.error).toEqual({
      type: "model_not_found",
      message: 'Model "new-model" is not supported by any configured account in this group',
    });
    expect(h.sim.upstream.askedModels).toEqual(["new-model"]);
    // No schedulable account at all is the 503, not the 404.
    await h.call("POST", `/api/v1/admin/accounts/${h.account.id}/schedulable`, { schedulable: false });
    const none = await h.chat("new-model");
    expect(none.status).toBe(503);
    expect(none.body.error).toEqual({ type: "api_error", message: "Service temporarily unavailable" });
  });
});

describe("PUT /admin/accounts/:id credentials (admin_account.go:604-615, account_credentials_redact.go:38-52@2bc139ab5)", () => {
  it("a new api_key replaces the key and keeps id, groups, status and schedulable; without api_key the key stays and omitted keys go", async () => {
    const h = await host();
    await h.call("POST", `/api/v1/admin/accounts/${h.account.id}/schedulable`, { schedulable: false });
    const put = await h.call("PUT", `/api/v1/admin/accounts/${h.account.id}`, {
      credentials: { api_key: "sk-new", base_url: UPSTREAM, model_mapping: { "new-model": "new-model" } },
    });
    expect(put.body.data).toMatchObject({
      id: h.account.id,
      group_ids: [h.group.id],
      status: "active",
      schedulable: false,
      credentials: { base_url: UPSTREAM, model_mapping: { "new-model": "new-model" } },
      credentials_status: { has_api_key: true },
    });
    expect(h.sim.state.accounts.get(h.account.id)?.credentials.api_key).toBe("sk-new");
    const partial = await h.call("PUT", `/api/v1/admin/accounts/${h.account.id}`, {
      credentials: { base_url: UPSTREAM },
    });
    expect(partial.body.data.credentials).toEqual({ base_url: UPSTREAM });
    expect(partial.body.data.credentials_status).toEqual({ has_api_key: true });
    expect(h.sim.state.accounts.get(h.account.id)?.credentials.api_key).toBe("sk-new");
  });
});

describe("DELETE /admin/users/:id (admin_user.go:351-440@2bc139ab5)", () => {
  it("soft-deletes the user and its keys, leaves its subscriptions, and the same e-mail can be made again", async () => {
    const h = await host();
    const g = (
      await h.call("POST", "/api/v1/admin/groups", {
        name: "sub",
        platform: "deepseek",
        subscription_type: "subscription",
      })
    ).body.data;
    await h.call("POST", "/api/v1/admin/subscriptions/assign", {
      user_id: h.user.id,
      group_id: g.id,
      validity_days: 30,
    });
    const del = await h.call("DELETE", `/api/v1/admin/users/${h.user.id}`);
    expect(del).toEqual({
      status: 200,
      body: { code: 0, message: "success", data: { message: "User deleted successfully" } },
    });
    expect((await h.call("GET", `/api/v1/admin/users/${h.user.id}`)).body.reason).toBe("USER_NOT_FOUND");
    const gw = await h.chat("new-model");
    expect(gw.status).toBe(401);
    expect(gw.body.code).toBe("INVALID_API_KEY");
    const subs = await h.call("GET", `/api/v1/admin/subscriptions?user_id=${h.user.id}`);
    expect(subs.body.data.items.map((x: Json) => x.status)).toEqual(["active"]);
    const again = await h.call("POST", "/api/v1/admin/users", {
      email: "a@example.com",
      password: "pw-123456",
    });
    expect(again.status).toBe(200);
    expect(again.body.data.id).not.toBe(h.user.id);
  });

  it("GET /admin/users/:id/api-keys lists the user's keys in full, and nothing once it is deleted (user_handler.go:417-439@2bc139ab5; met live by probe-user.live.test.ts)", async () => {
    const h = await host();
    const listed = await h.call("GET", `/api/v1/admin/users/${h.user.id}/api-keys?page=1&page_size=100`);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toMatchObject({ total: 1, pages: 1 });
    expect(listed.body.data.items.map((k: Json) => [k.id, k.user_id, k.key, k.name])).toEqual([
      [77, h.user.id, "sk-user-77", "k"],
    ]);
    expect((await h.call("GET", "/api/v1/admin/users/x/api-keys")).status).toBe(400);
    await h.call("DELETE", `/api/v1/admin/users/${h.user.id}`);
    const after = await h.call("GET", `/api/v1/admin/users/${h.user.id}/api-keys`);
    expect(after.status).toBe(200);
    expect(after.body.data.items).toEqual([]);
  });
});
