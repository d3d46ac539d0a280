import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { importKeys } from "../../src/provision/import.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { providerResources, providerStatus } from "../../src/reconcile/status.js";
import { runReconcileTick } from "../../src/worker/scheduler.js";
import { rows, TEST_API_TOKEN } from "../helpers/context.js";
import { checkConsistency } from "../helpers/invariants.js";
import { json } from "../helpers/json.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

async function imported(keys = 2) {
  w = await makeWorld();
  const list = Array.from({ length: keys }, () => deepseekKey());
  const r = await importKeys(w.t.ctx, {
    hostRef: "sim",
    providerId: "deepseek",
    keys: list,
    mode: "strict",
    accessMode: "subscription",
  });
  expect(r.provider_status).toBe("active");
  return { r, keys: list };
}
const reconcile = (heal = false) =>
  reconcileProvider(w.t.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "manual", heal });

describe("reconcile against the simulated host", () => {
  it("all good: active, a handful of list calls plus the tests and the probe", async () => {
    await imported(3);
    const r = await reconcile();
    expect(r).toMatchObject({
      outcome: "ok",
      new_status: "active",
      access_state: "subscription_ready",
      findings: [],
    });
    // lists: groups, accounts, channels, plans, subscriptions (5) + 3 account tests + probe (user lookup, login, keys, chat)
    expect(r.host_calls).toBeLessThanOrEqual(5 + 3 + 5);
  });

  it("--retest: all by default, sample:N for the schedule, failed follows last run's failures", async () => {
    const { keys } = await imported(8);
    const bad = liveOnHost(w.sim).accounts.find((a) => a.credentials.api_key === keys[2]);
    if (!bad) throw new Error("no account for the key");
    w.sim.sim.upstream.revoke(keys[2] as string);
    const tests = () => w.sim.sim.requestCount;
    const first = await reconcile();
    expect(first.retest).toEqual({ policy: "all", tested: 8 });
    expect(first.findings.filter((f) => f.kind === "account_failing").map((f) => f.host_resource_id)).toEqual(
      [bad.id],
    );
    // `failed`: only the account that failed last time is tested again, and still fails.
    let before = tests();
    const failed = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual", retest: { kind: "failed" } },
    );
    expect(failed.retest).toEqual({ policy: "failed", tested: 1 });
    expect(failed.findings.some((f) => f.kind === "account_failing" && f.host_resource_id === bad.id)).toBe(
      true,
    );
    const failedCalls = tests() - before;
    // The schedule samples 5 and always adds last run's failure: 6 tests, not 8.
    before = tests();
    const [tick] = await runReconcileTick(w.t.ctx);
    expect(tick?.retest).toEqual({ policy: "sample:5", tested: 6 });
    expect(tick?.findings.some((f) => f.kind === "account_failing" && f.host_resource_id === bad.id)).toBe(
      true,
    );
    // Judged from the host: the sampled run made 5 more test calls than the `failed` one, and the
    // tick's probe of the host (one version read) one more request.
    expect(tests() - before - failedCalls).toBe(5 + 1);
    // `none`: drift and access only.
    const none = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual", retest: { kind: "none" } },
    );
    expect(none.retest).toEqual({ policy: "none", tested: 0 });
  });

  it("an account deleted by hand: drifted, with a finding naming it", async () => {
    await imported();
    const victim = liveOnHost(w.sim).accounts[0];
    if (!victim) throw new Error("no account");
    victim.deletedAt = Date.now();
    const r = await reconcile();
    expect(r.new_status).toBe("drifted");
    expect(r.findings).toContainEqual(
      expect.objectContaining({
        kind: "missing",
        resource_type: "account",
        name: victim.name,
        host_resource_id: victim.id,
      }),
    );
    expect((await providerStatus(w.t.ctx, "deepseek")).hosts[0]).toMatchObject({
      status: "drifted",
      last_reconcile: { outcome: "drift" },
    });
  });

  it("a key revoked upstream: degraded", async () => {
    const { keys } = await imported();
    w.sim.sim.upstream.revoke(keys[0] as string);
    const r = await reconcile();
    expect(r.new_status).toBe("degraded");
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: "account_failing" }));
  });

  it("a subscription revoked: access broken", async () => {
    await imported();
    for (const s of w.sim.sim.state.subscriptions.values()) s.status = "revoked";
    const r = await reconcile();
    expect(r.access_state).toBe("broken");
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: "access_broken" }));
    const message = r.findings.find((f) => f.kind === "access_broken")?.message ?? "";
    expect(message).toMatch(/SUBSCRIPTION_NOT_FOUND/);
    // "access broken: … (api_error) (api_error) repeats": the code is named once.
    expect(message.match(/SUBSCRIPTION_NOT_FOUND/g), message).toHaveLength(1);
  });

  it("a group edited by hand: a changed finding", async () => {
    await imported();
    const g = liveOnHost(w.sim).groups[0];
    if (!g) throw new Error("no group");
    g.status = "inactive";
    const r = await reconcile();
    expect(r.findings).toContainEqual(
      expect.objectContaining({
        kind: "changed",
        resource_type: "group",
        field: "status",
        expected: "active",
        actual: "inactive",
      }),
    );
    expect(r.new_status).toBe("drifted");
  });

  it("--heal re-binds accounts unbound by hand with one bulk-update per group", async () => {
    await imported(3);
    const accounts = liveOnHost(w.sim).accounts;
    for (const a of accounts) a.groupIds = [];
    const writesBefore = w.sim.sim.writes.length;
    const r = await reconcile(true);
    expect(r.healed.filter((x) => x.startsWith("re-bound account"))).toHaveLength(3);
    const gid = liveOnHost(w.sim).groups[0]?.id;
    for (const a of accounts) expect(a.groupIds).toEqual([gid]);
    const writes = w.sim.sim.writes.slice(writesBefore).filter((x) => x.includes("/admin/accounts"));
    expect(writes.filter((x) => !x.endsWith("/test"))).toEqual(["POST /api/v1/admin/accounts/bulk-update"]);
  });

  it("--heal re-binds an account unbound by hand and re-assigns a revoked subscription; missing accounts stay reported", async () => {
    const user = { id: 0 };
    w = await makeWorld();
    user.id = w.sim.sim.state.addUser({ email: "u@example.com", password: "u-password" }).id;
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: user.id }],
    });
    const [a, b] = liveOnHost(w.sim).accounts;
    if (!a || !b) throw new Error("accounts");
    a.groupIds = [];
    b.deletedAt = Date.now();
    for (const s of w.sim.sim.state.subscriptions.values()) if (s.userId === user.id) s.status = "revoked";
    const r = await reconcile(true);
    expect(r.healed.join("\n")).toMatch(/re-bound account/);
    expect(r.healed.join("\n")).toMatch(new RegExp(`re-assigned the subscription of user ${user.id}`));
    expect(a.groupIds).toEqual([liveOnHost(w.sim).groups[0]?.id]);
    expect(r.findings.filter((f) => !f.healed)).toEqual([
      expect.objectContaining({ kind: "missing", resource_type: "account", name: b.name }),
    ]);
    const again = await reconcile();
    expect(again.findings.map((f) => f.kind)).toEqual(["missing"]);
  });

  it("after drift, rollback still leaves the store and the host consistent", async () => {
    const { r: batch } = await imported(3);
    const victim = liveOnHost(w.sim).accounts[0];
    if (victim) victim.deletedAt = Date.now();
    await reconcile();
    const rb = await rollbackBatch(w.t.ctx, batch.batch_id);
    expect(rb.status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);
    expect(await checkConsistency(w.t.ctx, w.sim)).toEqual({
      orphans: [],
      lostBatches: [],
      unfinished: [],
      phantoms: [],
    });
    expect(
      (await providerResources(w.t.ctx, "deepseek")).every((x) =>
        ["deleted", "gone", "failed"].includes(x.state),
      ),
    ).toBe(true);
  });

  it("unexpected: an account this installation made (its name says so) that relay has no record of; another installation's is not", async () => {
    await imported(1);
    const g = liveOnHost(w.sim).groups[0];
    const mine = `deepseek-ffffffff-${w.t.ctx.installId}`;
    for (const name of [mine, "deepseek-eeeeeeee-99999999"]) {
      const res = await fetch(`${w.sim.url}/api/v1/admin/accounts`, {
        method: "POST",
        headers: { "x-api-key": w.sim.sim.state.adminApiKey, "content-type": "application/json" },
        body: JSON.stringify({
          name,
          platform: "deepseek",
          type: "apikey",
          credentials: { api_key: deepseekKey(), base_url: "https://api.deepseek.com" },
          group_ids: [g?.id],
        }),
      });
      expect(res.status).toBe(200);
    }
    const rec = await reconcile();
    expect(rec.findings.filter((f) => f.kind === "unexpected").map((f) => f.name)).toEqual([mine]);
  });
});

describe("scheduler tick and interfaces", () => {
  it("two ticks at once never reconcile the same provider twice at the same time", async () => {
    await imported();
    w.sim.sim.options.faults = { latencyMs: 15 };
    const [a, b] = await Promise.all([runReconcileTick(w.t.ctx), runReconcileTick(w.t.ctx)]);
    const outcomes = [...(a ?? []), ...(b ?? [])].map((r) => r.outcome).sort();
    expect(outcomes).toEqual(["ok", "skipped"]);
    const runs = await rows<{ startedAt: string; finishedAt: string }>(
      w.t.ctx,
      sql`SELECT outcome, started_at, finished_at FROM reconcile_runs WHERE outcome != 'skipped' ORDER BY id`,
    );
    for (let i = 1; i < runs.length; i++)
      expect(Date.parse(runs[i]?.startedAt as string)).toBeGreaterThanOrEqual(
        Date.parse(runs[i - 1]?.finishedAt as string),
      );
  });

  it("POST reconcile, GET status and resources, and /metrics", async () => {
    await imported();
    const app = createApp(w.t.ctx);
    const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
    const rec = await json(
      app.request("/api/providers/deepseek/reconcile", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ host_id: "sim" }),
      }),
    );
    expect(rec).toMatchObject({ outcome: "ok", new_status: "active" });
    const status = await json(app.request("/api/providers/deepseek/status", { headers: auth }));
    expect(status.hosts[0]).toMatchObject({
      host_name: "sim",
      status: "active",
      access_state: "subscription_ready",
      last_reconcile: { outcome: "ok" },
    });
    // The latest run is the one shown; the host filter takes an id or a name.
    await reconcileProvider(w.t.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "cli" });
    for (const ref of ["sim", w.hostId]) {
      const one = await json(app.request(`/api/providers/deepseek/status?host_id=${ref}`, { headers: auth }));
      expect(one.hosts).toHaveLength(1);
      expect(one.hosts[0]).toMatchObject({
        host_id: w.hostId,
        last_reconcile: { trigger: "cli", findings: [] },
      });
    }
    const unknownHost = await app.request("/api/providers/deepseek/status?host_id=nope", { headers: auth });
    expect(unknownHost.status).toBe(404);
    expect((await json(unknownHost)).error.code).toBe("HOST_NOT_FOUND");
    const never = await app.request("/api/providers/kimi/status?host_id=sim", { headers: auth });
    expect(never.status).toBe(404);
    expect((await json(never)).error.code).toBe("PROVIDER_NOT_ON_HOST");
    const resources = await json(
      app.request(`/api/providers/deepseek/resources?host_id=${w.hostId}`, { headers: auth }),
    );
    expect(resources.items.map((r: { type: string }) => r.type)).toEqual(
      expect.arrayContaining(["group", "channel", "account", "subscription"]),
    );
    expect((await app.request("/metrics")).status).toBe(401);
    const metrics = await (await app.request("/metrics", { headers: auth })).text();
    expect(metrics).toMatch(/relay_reconcile_runs_total\{trigger="manual",outcome="ok"\} 1/);
    expect(metrics).toMatch(/relay_provider_status\{host="sim",provider="deepseek",status="active"\} 1/);
    // The host label is the host's name, as in relay_provider_status (#25).
    expect(metrics).toContain('relay_host_calls_total{host="sim",operation="accounts.test",outcome="ok"}');
    // "/metrics lacks relay_build_info and import/rollback counters" (process metrics: relay serve,
    // tests/e2e/serve-and-sim.test.ts)
    expect(metrics).toMatch(/relay_build_info\{version="\d+\.\d+\.\d+",node="[\d.]+"\} 1/);
    expect(metrics).toMatch(/relay_imports_total\{status="succeeded"\} 1/);
    expect(metrics).toMatch(/relay_import_duration_seconds_count 1/);
  });
});
