import { afterEach, describe, expect, it } from "vitest";
import { assignSubscriptions, previewAccess } from "../../src/access/subscriptions.js";
import { importKeys } from "../../src/provision/import.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

// Live on 0.1.179 (2bc139ab5), 67380eafd and 0.1.150: revoking a subscription is a soft delete
// (service/subscription_service.go:600-616@2bc139ab5); the admin list WITHOUT a status filter still
// shows the row, as status `revoked` with `revoked_at` (repository/user_subscription_repo.go:241,
// 278-288, 635-642; handler/dto/mappers.go:817), `status=active` leaves it out, and
// `GET /admin/subscriptions/:id` answers 404 (GetByID keeps the soft-delete filter, :64).

let w: World;
afterEach(async () => {
  await w?.close();
});

type Row = { id: number; user_id: number; status: string; revoked_at?: string };

async function host<T>(path: string, method = "GET", body?: unknown): Promise<{ status: number; data: T }> {
  const res = await fetch(`${w.sim.url}/api/v1/admin${path}`, {
    method,
    headers: { "x-api-key": w.sim.sim.state.adminApiKey, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: T };
  return { status: res.status, data: json.data };
}

const list = async (query: string) => (await host<{ items: Row[] }>(`/subscriptions?${query}`)).data.items;

describe("a revoked subscription, as the host shows it", () => {
  it("the simulator lists it unfiltered with status revoked and revoked_at, not under status=active, and GET :id is 404", async () => {
    w = await makeWorld();
    const alice = w.sim.sim.state.addUser({ email: "alice@example.com", password: "alice-password" });
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: alice.id }],
    });
    const [sub] = await list(`user_id=${alice.id}`);
    if (!sub) throw new Error("no subscription");
    expect(sub).toMatchObject({ status: "active" });
    expect(sub.revoked_at).toBeUndefined();
    expect((await host(`/subscriptions/${sub.id}`, "DELETE")).status).toBe(200);

    const all = await list(`user_id=${alice.id}`);
    expect(all).toEqual([expect.objectContaining({ id: sub.id, status: "revoked" })]);
    expect(typeof all[0]?.revoked_at).toBe("string");
    expect(await list(`user_id=${alice.id}&status=active`)).toEqual([]);
    expect((await list(`user_id=${alice.id}&status=revoked`)).map((x) => x.id)).toEqual([sub.id]);
    expect((await host(`/subscriptions/${sub.id}`)).status).toBe(404);
  });

  it("relay counts it as not live: not already subscribed, re-assigned as new, no drift, and --heal re-assigns it", async () => {
    w = await makeWorld();
    const alice = w.sim.sim.state.addUser({ email: "alice@example.com", password: "alice-password" });
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: alice.id }],
    });
    const [sub] = await list(`user_id=${alice.id}`);
    if (!sub) throw new Error("no subscription");
    expect((await host(`/subscriptions/${sub.id}`, "DELETE")).status).toBe(200);

    // reconcile sees the subscription gone (healable), never "present" because the list shows it
    const seen = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual", heal: true },
    );
    expect(seen.healed.join("\n")).toMatch(new RegExp(`re-assigned the subscription of user ${alice.id}`));
    const afterHeal = await list(`user_id=${alice.id}&status=active`);
    expect(afterHeal).toHaveLength(1);
    expect(afterHeal[0]?.id).not.toBe(sub.id);

    // revoke the healed one too: an explicit assign creates a new row, it is not "already subscribed"
    expect((await host(`/subscriptions/${afterHeal[0]?.id}`, "DELETE")).status).toBe(200);
    const preview = await previewAccess(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      users: [{ userId: alice.id }],
    });
    expect(preview.already_subscribed).not.toContain(alice.id);
    expect(preview.assign.map((a) => a.action)).toEqual(["create"]);
    const assigned = await assignSubscriptions(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      users: [{ userId: alice.id, days: 30 }],
    });
    expect(assigned[0]).toMatchObject({ action: "created" });
    const rows = await list(`user_id=${alice.id}`);
    expect(rows.map((x) => x.status).sort()).toEqual(["active", "revoked", "revoked"]);

    // with a live subscription again, the revoked rows beside it make no drift
    const clean = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual" },
    );
    expect(clean.findings).toEqual([]);
    expect(clean.new_status).toBe("active");
  });
});
