import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { hostAdapterFor } from "../../src/app/host-access.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { runAccessProbe } from "../../src/steps/access-proof.js";
import { findHost, latestCapabilities } from "../../src/store/hosts.js";
import { standardPack, writeSignedPack } from "../fixtures/packs/write.js";
import { row } from "../helpers/context.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";
import { makeProxiedWorld } from "../reliability/lost-answers.js";
import { SecretLedger } from "../reliability/suite.js";
import { runBalanceCheck } from "../sim/sub2api/admin-accounts.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

/** Each test is named after a mismatch with sub2api's real behaviour (issue "Host fidelity, round 2"). */
describe("host fidelity: idempotency, deletes, probe, pack rules", () => {
  it("the batch Idempotency-Key hashed host and names: a re-import with the same names within 24 h got 409 IDEMPOTENCY_KEY_CONFLICT", async () => {
    w = await makeWorld();
    const first = deepseekKey();
    expect(
      (await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys: [first], mode: "strict" }))
        .status,
    ).toBe("succeeded");
    // A key whose test fails: its batch creates it, removes it, and rolls back (the group stays, so
    // the generation and the account name stay too).
    const key = deepseekKey();
    w.sim.sim.upstream.revoke(key);
    const failed = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [key],
      mode: "partial",
    });
    expect(failed.status).toBe("rolled_back");
    // The same key again, now valid: the same account name goes into a new batch create.
    w.sim.sim.upstream.restore(key);
    const again = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [key],
      mode: "strict",
    });
    expect(again.status).toBe("succeeded");
    expect(again.warnings.join(" ")).not.toMatch(/IDEMPOTENCY/);
    expect(liveOnHost(w.sim).accounts).toHaveLength(2);
  });

  it("DELETE of an unknown payment plan answers 500, so re-running a rollback failed", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      withPlan: true,
    });
    const plan = liveOnHost(w.sim, r.batch_id).plans[0];
    expect(plan).toBeDefined();
    w.sim.sim.state.plans.delete(plan?.id as number); // deleted by hand: the host now answers 500 for it
    const back = await rollbackBatch(w.t.ctx, r.batch_id);
    expect(back.status).toBe("rolled_back");
    expect(back.resources.find((x) => x.type === "plan")?.state).toBe("deleted");
    expect(liveOnHost(w.sim)).toMatchObject({ groups: [], accounts: [], plans: [] });
  });

  it("login captcha was discovered only when the login failed: now at probe time", async () => {
    w = await makeWorld({ captchaEnabled: true });
    const caps = await latestCapabilities(w.t.ctx, w.hostId);
    expect(caps.user_login).toBe(false);
    // The store reads `warnings` as JSON (a json column).
    const host = (await row<{ warnings: { code: string }[] }>(
      w.t.ctx,
      sql`SELECT warnings FROM host_capability_snapshots`,
    )) as { warnings: { code: string }[] };
    expect(host.warnings.map((x: { code: string }) => x.code)).toContain("USER_LOGIN_BLOCKED");
  });

  it("rate_multiplier: 0 was allowed by the pack schema; the host answers 500 'rate_multiplier must be > 0'", async () => {
    w = await makeWorld();
    const dir = join(w.t.dir, "zero-rate");
    writeSignedPack(dir, standardPack({ rate_multiplier: 0 }));
    await expect(installPack(w.t.ctx, { kind: "path", path: dir })).rejects.toMatchObject({
      code: "PACK_INVALID",
    });
  });

  it("the probe user's balance top-up used a fixed idempotency key: within 24 h the host replayed a stale answer and the balance stayed empty", async () => {
    w = await makeWorld();
    const dir = join(w.t.dir, "payg");
    writeSignedPack(dir, standardPack({}));
    await installPack(w.t.ctx, { kind: "path", path: dir });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek-payg",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "self-service",
    });
    expect(r.access_closure_status).toBe("self_service_ready");
    const probe = [...w.sim.sim.state.users.values()].find((u) => u.email.startsWith("relay-probe-"));
    if (!probe) throw new Error("no probe user");
    for (let round = 0; round < 2; round++) {
      probe.balance = 0; // spent
      const again = await runAccessProbe(w.t.ctx, { hostRef: "sim", providerId: "deepseek-payg" });
      expect(again.access_state).toBe("self_service_ready");
      expect(probe.balance).toBeGreaterThan(0);
    }
  });
});

/** The Dec 2026 review of sub2api's source (docs/evidence/sub2api-fidelity-2026-12.md), item by item. */
describe("host fidelity, Dec 2026 review", () => {
  it("B1: with idempotency.observe_only false, extend and user key create were refused for want of an Idempotency-Key", async () => {
    w = await makeWorld({ idempotencyRequired: true });
    const user = w.sim.sim.state.addUser({ email: "b1@example.com", password: "pw-123456" });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
      subscribe: [{ userId: user.id, days: 30 }],
    });
    // The gateway proof creates the probe user's key: refused keyless on such a host.
    expect(r.access_closure_status, r.status_reason).toBe("subscription_ready");
    const sub = liveOnHost(w.sim, r.batch_id).subscriptions[0];
    if (!sub) throw new Error("no subscription");
    const before = sub.expiresAt;
    const adapter = await hostAdapterFor(w.t.ctx, await findHost(w.t.ctx, "sim"));
    await adapter.extendSubscription(sub.id, 5);
    await adapter.extendSubscription(sub.id, 5); // a second extend by the same days is a new extend
    expect(Math.round((sub.expiresAt - before) / 86_400_000)).toBe(10);
  });

  it.each([
    ["extend", /^POST \/api\/v1\/admin\/subscriptions\/\d+\/extend$/],
    ["user key create", /^POST \/api\/v1\/keys$/],
  ])("D4: %s whose answer is lost is retried with its key and replayed, not done twice", async (_, match) => {
    const pw = await makeProxiedWorld("v0.1.179", new SecretLedger());
    try {
      const adapter = await hostAdapterFor(pw.ctx, await findHost(pw.ctx, "sim"));
      const state = pw.sim.sim.state;
      const group = state.liveGroups().find((g) => g.subscriptionType === "subscription");
      if (!group) throw new Error("the foreign fixture has no subscription group");
      const email = "d4@example.com";
      const userId = state.addUser({ email, password: "pw-123456" }).id;
      const assigned = await adapter.assignSubscription({
        userId,
        groupId: group.id,
        validityDays: 30,
        notes: "n",
      });
      if (assigned.kind !== "assigned") throw new Error("not assigned");
      const sub = state.subscriptions.get(assigned.subscription.id);
      if (!sub) throw new Error("no subscription");
      const expiresBefore = sub.expiresAt;
      const keysBefore = state.liveKeys().length;
      pw.proxy.arm({ match, mode: "drop" });
      if (String(match).includes("extend")) {
        await adapter.extendSubscription(sub.id, 7);
      } else {
        const login = await adapter.login(email, "pw-123456");
        if (login.kind !== "ok") throw new Error(login.message);
        await adapter.createUserKey(login.session, { name: "probe", groupId: group.id });
      }
      pw.proxy.disarm();
      expect(pw.proxy.hits.map((h) => h.mode)).toEqual(["drop"]);
      if (String(match).includes("extend")) {
        expect(Math.round((sub.expiresAt - expiresBefore) / 86_400_000)).toBe(7);
      } else {
        expect(state.liveKeys().length).toBe(keysBefore + 1);
      }
    } finally {
      await pw.close();
    }
  });

  it("D11: an expired subscription relay made is healed by a re-assign that renews it in place", async () => {
    w = await makeWorld();
    const user = w.sim.sim.state.addUser({ email: "d11@example.com", password: "pw-123456" });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: user.id, days: 30 }],
    });
    const sub = liveOnHost(w.sim, r.batch_id).subscriptions[0];
    if (!sub) throw new Error("no subscription");
    Object.assign(sub, { status: "expired", expiresAt: Date.now() - 1000 });
    const healed = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual", heal: true },
    );
    expect(healed.healed.join("\n")).toMatch(new RegExp(`re-assigned the subscription of user ${user.id}`));
    expect(w.sim.sim.state.subscriptions.get(sub.id)).toMatchObject({ status: "active" });
    expect(sub.expiresAt).toBeGreaterThan(Date.now());
    expect([...w.sim.sim.state.subscriptions.values()].filter((x) => x.userId === user.id)).toHaveLength(1);
  });

  it("D7: bulk-update to a group deleted by hand fails whole (404 GROUP_NOT_FOUND); heal does not retry account by account", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
    });
    const group = liveOnHost(w.sim, r.batch_id).groups[0];
    if (!group) throw new Error("no group");
    w.sim.sim.state.deleteGroupCascade(group);
    const healed = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual", heal: true },
    );
    expect(healed.healed).toContain(
      `could not re-bind 2 account(s): group #${group.id} is gone from the host`,
    );
    expect(healed.healed.join("\n")).not.toMatch(/could not heal account/);
  });

  it("B2: a DeepSeek import on a host with security.url_allowlist on (default upstream_hosts) is refused before any write", async () => {
    w = await makeWorld({ urlAllowlist: true });
    const before = JSON.stringify(w.sim.sim.state.liveCounts());
    const writes = w.sim.sim.writes.length;
    const err = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string; hint?: string },
    );
    expect(err?.code).toBe("BASE_URL_NOT_ALLOWED");
    expect(err?.message).toContain("security.url_allowlist.upstream_hosts");
    expect(err?.hint).toContain("api.deepseek.com");
    // Judged from the host: nothing was written.
    expect(w.sim.sim.writes.slice(writes)).toEqual([]);
    expect(JSON.stringify(w.sim.sim.state.liveCounts())).toBe(before);
  });

  it("B2: Kimi (api.moonshot.cn is in the default upstream_hosts) still imports on that host", async () => {
    w = await makeWorld({ urlAllowlist: true });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "kimi",
      keys: [`sk-${"k".repeat(40)}`],
      mode: "strict",
    });
    expect(r.status, r.status_reason).toBe("succeeded");
  });

  it("D3: an account the host paused for low balance was reported healthy; reconcile now reports it failing", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey()];
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys,
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r.status).toBe("succeeded");
    w.sim.sim.upstream.lowBalance.add(keys[0] as string);
    runBalanceCheck(w.sim.sim);
    const paused = liveOnHost(w.sim, r.batch_id).accounts.filter(
      (a) => a.tempUnschedulableUntil !== undefined,
    );
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({ status: "active", schedulable: true }); // status untouched
    const rec = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual" },
    );
    expect(rec.findings).toContainEqual(
      expect.objectContaining({
        kind: "account_failing",
        host_resource_id: paused[0]?.id,
        message: expect.stringMatching(/temporarily unschedulable until .*balance/),
      }),
    );
    expect(rec.new_status).toBe("degraded");
  });

  it("B3: run_mode simple (0.2.4) made relay's subscription group standard; the import now stops at the group, naming run_mode, and leaves nothing", async () => {
    w = await makeWorld({ profile: "v0.2.4", runMode: "simple" });
    const user = w.sim.sim.state.addUser({ email: "b3@example.com", password: "pw-123456" });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: user.id }],
    });
    expect(r.status).toBe("rolled_back");
    expect(r.status_reason).toMatch(/run_mode: simple/);
    expect(liveOnHost(w.sim)).toMatchObject({ groups: [], accounts: [], subscriptions: [] });
  });

  it("v0.2.4 (standard run mode): minimax imports on the verified fallback although the build accepts the platform; host add warns the build is newer than verified", async () => {
    w = await makeWorld({ profile: "v0.2.4" });
    // The store reads `warnings` as JSON (a json column).
    const host = (await row<{ warnings: { code: string }[] }>(
      w.t.ctx,
      sql`SELECT warnings FROM host_capability_snapshots`,
    )) as { warnings: { code: string }[] };
    expect(host.warnings.map((x: { code: string }) => x.code)).toContain("HOST_NEWER_THAN_VERIFIED");
    expect((await latestCapabilities(w.t.ctx, w.hostId)).cn_platforms).toContain("minimax");
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "minimax",
      keys: ["m".repeat(48)],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r.status, r.status_reason).toBe("succeeded");
    expect(liveOnHost(w.sim, r.batch_id).groups[0]?.platform).toBe("openai");
  });
});
