import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { assignSubscriptions, previewAccess } from "../../src/access/subscriptions.js";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { runAccessProbe } from "../../src/steps/access-proof.js";
import { standardPack, writeSignedPack } from "../fixtures/packs/write.js";
import { row, storedBytes } from "../helpers/context.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

/** The install's row, with the store's column names (status, accessState). */
const providerStatus = async (world: World) =>
  await row<{ status: string; accessState: string }>(
    world.t.ctx,
    sql`SELECT status, access_state FROM provider_installs`,
  );

/** A pack whose provider bills by balance (a standard group): the self-service path. */
function installStandardPack(world: World) {
  const dir = join(world.t.dir, "payg-pack");
  writeSignedPack(dir, standardPack({}));
  return installPack(world.t.ctx, { kind: "path", path: dir });
}

describe("access states, each from real evidence", () => {
  it("subscription_ready: the probe user's own key on the subscription group gets a completion; provider active", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r).toMatchObject({
      status: "succeeded",
      access_closure_status: "subscription_ready",
      provider_status: "active",
    });
    const probeUser = [...w.sim.sim.state.users.values()].find((u) => u.email.startsWith("relay-probe-"));
    expect(probeUser?.email).toMatch(/@relay\.invalid$/);
    const probeKey = w.sim.sim.state.liveKeys().find((k) => k.userId === probeUser?.id);
    expect(probeKey?.groupId).toBe(liveOnHost(w.sim).groups[0]?.id);
  });

  it("after a rollback status reads validated and access still subscription_ready: now not_installed and not_configured", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(await providerStatus(w)).toEqual({ status: "active", accessState: "subscription_ready" });
    await rollbackBatch(w.t.ctx, r.batch_id);
    // Judged from the host: nothing of the batch is live there any more.
    expect(Object.values(liveOnHost(w.sim, r.batch_id)).flat()).toEqual([]);
    expect(await providerStatus(w)).toEqual({ status: "not_installed", accessState: "not_configured" });
    // A later access check cannot resurrect the old proof.
    expect((await runAccessProbe(w.t.ctx, { hostRef: "sim", providerId: "deepseek" })).access_state).toBe(
      "not_configured",
    );
    expect(await providerStatus(w)).toEqual({ status: "not_installed", accessState: "not_configured" });
  });

  it("imports of several providers at once on a fresh host all prove access (one probe user, no lost password)", async () => {
    w = await makeWorld();
    const results = await Promise.all(
      ["deepseek", "kimi", "qwen"].map((providerId) =>
        importKeys(w.t.ctx, {
          hostRef: "sim",
          providerId,
          keys: [deepseekKey()],
          mode: "strict",
          accessMode: "subscription",
        }),
      ),
    );
    expect(results.map((r) => r.access_closure_status)).toEqual([
      "subscription_ready",
      "subscription_ready",
      "subscription_ready",
    ]);
    const probeUsers = [...w.sim.sim.state.users.values()].filter((u) => u.email.startsWith("relay-probe-"));
    expect(probeUsers).toHaveLength(1);
  });

  it("fully_ready: with a plan for sale, users can also subscribe themselves", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
      withPlan: true,
    });
    expect(r.created.plan_id).toEqual(expect.any(Number));
    expect(r.access_closure_status).toBe("fully_ready");
  });

  it("self_service_ready: a balance-billed group a user binds a key to by themselves", async () => {
    w = await makeWorld();
    await installStandardPack(w);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek-payg",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "self-service",
    });
    expect(r.access_closure_status).toBe("self_service_ready");
    const probeUser = [...w.sim.sim.state.users.values()].find((u) => u.email.startsWith("relay-probe-"));
    expect(probeUser?.balance).toBeGreaterThan(0);
  });

  it("broken: revoking the subscription on the host makes the next probe fail with SUBSCRIPTION_NOT_FOUND", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    for (const s of w.sim.sim.state.subscriptions.values()) s.status = "revoked";
    const s = await runAccessProbe(w.t.ctx, { hostRef: "sim", providerId: "deepseek" });
    expect(s.access_state).toBe("broken");
    expect(s.gateway).toMatchObject({ status: 403, error_code: "SUBSCRIPTION_NOT_FOUND" });
    expect(s.reason).toMatch(/SUBSCRIPTION_NOT_FOUND/);
    expect(await providerStatus(w)).toEqual({ status: "degraded", accessState: "broken" });
  });

  it("not_configured on a host without a probe identity", async () => {
    w = await makeWorld();
    await addHost(w.t.ctx, {
      name: "noprobe",
      baseUrl: w.sim.url,
      adminKey: w.sim.sim.state.adminApiKey,
      probeIdentity: "none",
    });
    const r = await importKeys(w.t.ctx, {
      hostRef: "noprobe",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r.access_closure_status).toBe("not_configured");
    expect(r.provider_status).toBe("installed");
    const s = await runAccessProbe(w.t.ctx, { hostRef: "noprobe", providerId: "deepseek" });
    expect(s.reason).toMatch(/probe identity is `none`/);
  });

  it("a blocked login (captcha) is reported as not verifiable, never assumed", async () => {
    w = await makeWorld({ turnstileEnabled: true });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r.access_closure_status).toBe("not_configured");
    const s = await runAccessProbe(w.t.ctx, { hostRef: "sim", providerId: "deepseek" });
    expect(s.reason).toMatch(/cannot log in \(TURNSTILE_VERIFICATION_FAILED\)/);
  });
});

describe("subscriptions", () => {
  it("assignment is idempotent on new and old hosts, and conflicts are reported, not overwritten", async () => {
    // Old builds' 409 SUBSCRIPTION_ALREADY_EXISTS is pinned by the adapter's contract tests: relay
    // refuses every import on them, so no provider of relay's can be assigned there.
    for (const profile of ["cn-native", "openai-compat"] as const) {
      w = await makeWorld({ profile });
      const alice = w.sim.sim.state.addUser({ email: "alice@example.com", password: "alice-password" });
      await importKeys(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: [deepseekKey()],
        mode: "strict",
      });
      const first = await assignSubscriptions(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        users: [{ userId: alice.id, days: 30 }],
      });
      expect(first[0]).toMatchObject({ action: "created" });
      const again = await assignSubscriptions(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        users: [{ userId: alice.id, days: 30 }],
      });
      expect(again[0]).toMatchObject({ action: "reused" });
      // A user the host does not have is refused by name before any write (issue #25 item 6).
      const before = w.sim.sim.state.subscriptions.size;
      await expect(
        assignSubscriptions(w.t.ctx, {
          hostRef: "sim",
          providerId: "deepseek",
          users: [{ userId: alice.id }, { userId: 9999 }],
        }),
      ).rejects.toMatchObject({ code: "USER_NOT_FOUND", details: { user_ids: [9999] } });
      expect(w.sim.sim.state.subscriptions.size).toBe(before);
      const preview = await previewAccess(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        users: [{ userId: alice.id }, { userId: 1 }],
      });
      expect(preview.already_subscribed).toContain(alice.id);
      expect(preview.assign.map((a) => a.action)).toEqual(["reuse", "create"]);
      expect([...w.sim.sim.state.subscriptions.values()].filter((s) => s.userId === alice.id)).toHaveLength(
        1,
      );
      await w.close();
    }
    w = await makeWorld();
  });

  it("rollback revokes the subscriptions the batch assigned and nothing else", async () => {
    w = await makeWorld();
    const s = w.sim.sim.state;
    const [alice, bob, carol] = ["alice", "bob", "carol"].map((n) =>
      s.addUser({ email: `${n}@example.com`, password: `${n}-password` }),
    );
    const first = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: alice?.id as number }],
    });
    const second = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: bob?.id as number }],
    });
    expect(second.status).toBe("succeeded");
    // a subscription made by hand in the same group
    const groupId = liveOnHost(w.sim).groups[0]?.id as number;
    const res = await fetch(`${w.sim.url}/api/v1/admin/subscriptions/assign`, {
      method: "POST",
      headers: { "x-api-key": s.adminApiKey, "content-type": "application/json" },
      body: JSON.stringify({ user_id: carol?.id, group_id: groupId, validity_days: 10, notes: "by hand" }),
    });
    expect(res.status).toBe(200);
    await rollbackBatch(w.t.ctx, second.batch_id);
    const active = [...s.subscriptions.values()].filter((x) => x.status === "active").map((x) => x.userId);
    expect(active).toContain(alice?.id);
    expect(active).toContain(carol?.id);
    expect(active).not.toContain(bob?.id);
    expect(first.status).toBe("succeeded");
  });
});

describe("subscriptions against the batch that owns the group (#29 R5)", () => {
  it("an `access assign` was recorded against the newest batch: rolling back a later one-key batch revoked the user's access while the group stayed", async () => {
    w = await makeWorld();
    const s = w.sim.sim.state;
    const dana = s.addUser({ email: "dana@example.com", password: "dana-password" });
    const first = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
    });
    const later = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    expect([first.status, later.status]).toEqual(["succeeded", "succeeded"]);
    const [grant] = await assignSubscriptions(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      users: [{ userId: dana.id, days: 30 }],
    });
    expect(grant?.action).toBe("created");
    await rollbackBatch(w.t.ctx, later.batch_id);
    // From the host: the group of the first batch is live and dana's subscription to it too.
    const live = liveOnHost(w.sim);
    expect(live.groups).toHaveLength(1);
    const danas = [...s.subscriptions.values()].filter((x) => x.userId === dana.id);
    expect(danas.map((x) => [x.id, x.status, x.groupId])).toEqual([
      [grant?.subscription_id, "active", live.groups[0]?.id],
    ]);
    // …and rolling back the batch that owns the group takes the grant with it.
    await rollbackBatch(w.t.ctx, first.batch_id);
    expect(danas.map((x) => s.subscriptions.get(x.id)?.status)).not.toContain("active");
  });
});

describe("secrets of the probe identity", () => {
  it("the probe password and the probe key are never stored in plaintext", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    await runAccessProbe(w.t.ctx, { hostRef: "sim", providerId: "deepseek" });
    const probeUser = [...w.sim.sim.state.users.values()].find((u) => u.email.startsWith("relay-probe-"));
    const probeKey = w.sim.sim.state.liveKeys().find((k) => k.userId === probeUser?.id);
    if (!probeUser || !probeKey) throw new Error("the probe user and its key should exist on the host");
    const db = await storedBytes(w.t);
    expect(db.includes(Buffer.from(probeUser.password))).toBe(false);
    expect(db.includes(Buffer.from(probeKey.key))).toBe(false);
    expect(db.includes(Buffer.from(probeKey.key.slice(3, 40)))).toBe(false);
  });
});
