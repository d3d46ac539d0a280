import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { addHost } from "../../src/hosts/hosts.js";
import { importKeys } from "../../src/provision/import.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { json } from "../helpers/json.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

function api(method: string, path: string, body?: unknown, token: string | null = TEST_API_TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return createApp(w.t.ctx).request(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The host's users, subscriptions and keys, as the simulator holds them. */
const hostState = () => {
  const s = w.sim.sim.state;
  return JSON.stringify({
    users: [...s.users.values()].map((u) => [u.id, u.email, u.deletedAt ?? null]),
    subscriptions: [...s.subscriptions.values()].map((x) => [x.id, x.userId, x.status]),
    keys: [...s.apiKeys.values()].map((k) => [k.id, k.userId, k.deletedAt ?? null]),
  });
};

describe("DELETE /api/hosts/{id}/probe-user", () => {
  it("bearer only; dry_run changes nothing; removal deletes the user on the host; again: nothing to remove", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    const path = `/api/hosts/${w.hostId}/probe-user`;
    expect((await api("DELETE", path, undefined, null)).status).toBe(401);
    expect((await api("DELETE", path, undefined, "wrong")).status).toBe(401);
    expect((await api("DELETE", path, { force: true })).status).toBe(400);

    const before = hostState();
    const dry = await api("DELETE", `${path}?dry_run=true`);
    expect(dry.status).toBe(200);
    const plan = await json(dry);
    expect(plan).toMatchObject({ outcome: "would_remove", dry_run: true, providers: ["deepseek"] });
    expect(hostState()).toBe(before);

    const res = await api("DELETE", path);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ outcome: "removed", probe_user: plan.probe_user });
    expect(w.sim.sim.state.users.get(plan.probe_user.user_id)?.deletedAt).toBeDefined();
    expect((await json(await api("GET", `/api/hosts/${w.hostId}`))).probe_user).toBeNull();
    const events = await w.t.ctx.db.q
      .selectFrom("events")
      .select(["kind", "message"])
      .where("hostId", "=", w.hostId)
      .where("kind", "like", "probe_user_%")
      .orderBy("id")
      .execute();
    expect(events.map((e) => e.kind)).toEqual([
      "probe_user_created",
      "probe_user_removal_started",
      "probe_user_removed",
    ]);
    expect(events[2]?.message).toContain(plan.next_email);

    const again = await api("DELETE", `/api/hosts/sim/probe-user`);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ outcome: "nothing_to_remove", probe_user: null });
  }, 60_000);

  it("an operator's probe user (identity `user`) is refused with 400 and left alone", async () => {
    w = await makeWorld();
    const op = w.sim.sim.state.addUser({ email: "probe@example.com", password: "probe-pass-1" });
    await addHost(w.t.ctx, {
      name: "theirs",
      baseUrl: w.sim.url,
      adminKey: w.sim.sim.state.adminApiKey,
      probeIdentity: "user",
      probeUser: { email: op.email, password: "probe-pass-1" },
    });
    const res = await api("DELETE", "/api/hosts/theirs/probe-user");
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: "PROBE_USER_NOT_RELAYS" });
    expect(w.sim.sim.state.users.get(op.id)?.deletedAt).toBeUndefined();
  }, 60_000);
});
