import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { migrateProvider, previewMigration } from "../../src/provision/migrate.js";
import { recoverBatches } from "../../src/provision/recover.js";
import { rollbackBatch, rollbackPreview } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { runAccessProbe } from "../../src/steps/access-proof.js";
import { listBatches } from "../../src/store/batches.js";
import { projectRoot } from "../../src/util/paths.js";
import { makeTestEnv, rowCount, rows, type TestEnv } from "../helpers/context.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { DEEPSEEK, mappingSnapshot, NEW, OLD, userCall, writeUpgradedPack } from "../helpers/migration.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

let w: World | undefined;
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await w?.close();
  w = undefined;
  for (const c of closers.reverse()) await c();
  closers = [];
});

const req = { hostRef: "sim", providerId: "deepseek" };

/** Imported under the shipped pack (users call OLD), then the pack is upgraded and the upstream retires OLD. */
async function importThenUpgrade(t: TestEnv, sim: RunningSim) {
  const r = await importKeys(
    t.ctx,
    { ...req, keys: [deepseekKey(), deepseekKey()], mode: "strict", accessMode: "subscription" },
    {},
  );
  expect(r.status).toBe("succeeded");
  expect((await userCall(sim, OLD)).status).toBe(200);
  const dir = join(t.dir, "pack-1.3.0");
  writeUpgradedPack(dir);
  const upgrade = await installPack(t.ctx, { kind: "path", path: dir });
  expect(upgrade.outcome).toBe("upgraded");
  sim.sim.upstream.setModels(DEEPSEEK, [NEW, "deepseek-v4-flash"]);
  return { importBatch: r.batch_id, upgrade };
}

describe("relay provider migrate: an old model name keeps working after a pack upgrade (issue #27 item 3)", () => {
  it("aliases the old name on the accounts and the channel; rollback restores the host's mappings exactly", async () => {
    w = await makeWorld();
    const sim = w.sim;
    const { upgrade } = await importThenUpgrade(w.t, sim);
    const hint = upgrade.warnings.find((x) => x.code === "MODELS_RENAMED");
    expect(hint?.message).toContain(`${OLD} → ${NEW}`);
    expect(hint?.message).toContain("relay provider migrate deepseek --host sim");
    // The upstream stopped serving OLD: a user's call with it fails through the gateway.
    const before = await userCall(sim, OLD);
    expect(before.status).toBe(400); // the upstream's own refusal, passed through (no failover on a 400)
    const snapshot = mappingSnapshot(sim);
    const keysBefore = Object.values(snapshot.accounts).map((c) => c.api_key);

    // The dry run plans 2 accounts and the channel, and changes nothing.
    const plan = await previewMigration(w.t.ctx, req);
    expect(plan.renames).toContainEqual({ from: OLD, to: NEW });
    // Only what the accounts serve moves: deepseek-v4-flash already maps to its replacement.
    expect(plan.changes.flatMap((c) => c.aliases)).toEqual([
      { from: OLD, to: NEW },
      { from: OLD, to: NEW },
      { from: OLD, to: NEW },
    ]);
    expect(plan.changes.map((c) => c.target).sort()).toEqual(["account", "account", "channel"]);
    const acct = plan.changes.find((c) => c.target === "account");
    expect(acct?.mapping_before[OLD]).toBe(OLD);
    expect(acct?.mapping_after[OLD]).toBe(NEW);
    expect(acct?.mapping_after[NEW]).toBe(NEW);
    expect(JSON.stringify(plan)).not.toContain(String(keysBefore[0]));
    expect(mappingSnapshot(sim)).toEqual(snapshot);
    expect(await rowCount(w.t.ctx, "mapping_changes")).toBe(0);

    const result = await migrateProvider(w.t.ctx, req, { expectedFingerprint: plan.fingerprint });
    expect(result.status).toBe("succeeded");
    expect(result.changes.every((c) => c.state === "applied")).toBe(true);
    // On the host: every account maps OLD to NEW (other entries and the key kept), the channel too.
    for (const [id, creds] of Object.entries(mappingSnapshot(sim).accounts)) {
      const was = snapshot.accounts[Number(id)] as Record<string, unknown>;
      expect(creds).toEqual({
        ...was,
        model_mapping: { ...(was.model_mapping as object), [OLD]: NEW },
      });
    }
    expect(Object.values(mappingSnapshot(sim).channels)).toEqual([{ deepseek: { [OLD]: NEW } }]);
    // The same user call now succeeds, served upstream by the replacement.
    const after = await userCall(sim, OLD);
    expect(after.status).toBe(200);
    expect(after.text).toContain(`Hello from ${NEW}`);
    // An access proof made with the old name passes.
    const proof = await runAccessProbe(w.t.ctx, { ...req, model: OLD });
    expect(proof.gateway?.status).toBe(200);
    expect(proof.access_state).toBe("subscription_ready");
    // The channel prices what pack 1.3.0 prices, and OLD (still served, by the alias) at NEW's price.
    const [channelId, pricingBefore] = Object.entries(snapshot.pricing)[0] ?? [];
    expect(pricingBefore?.some((p) => p.models.includes(OLD))).toBe(true);
    const pricingAfter = mappingSnapshot(sim).pricing[Number(channelId)] ?? [];
    const newEntry = pricingAfter.find((p) => p.models.includes(NEW));
    expect(newEntry?.models).toContain(OLD);
    expect(pricingAfter.filter((p) => p.models.includes(OLD))).toEqual([newEntry]);
    expect(pricingAfter).not.toEqual(pricingBefore);
    // Reconcile expects what the migration set, not the pack's own mapping: no mapping or pricing drift.
    const rec = await reconcileProvider(w.t.ctx, req, { trigger: "manual" });
    expect(rec.findings.filter((f) => f.field === "model_mapping" || f.field === "model_pricing")).toEqual(
      [],
    );
    expect(rec.outcome).toBe("ok");
    // The ledger lists it as a model migration, its size the mappings it changed.
    const listed = (await listBatches(w.t.ctx)).find((b) => b.batch_id === result.batch_id);
    expect(listed).toMatchObject({ kind: "model_migration", keys: 0, changes: 3 });
    // Nothing left to do a second time.
    expect((await migrateProvider(w.t.ctx, req)).status).toBe("nothing_to_migrate");

    const batchId = result.batch_id as string;
    const dry = await rollbackPreview(w.t.ctx, batchId);
    expect(dry.would_delete).toEqual([]);
    expect(dry.would_restore?.length).toBe(3);
    // The channel's previous pricing is what the dry run says it puts back.
    const channelBack = dry.would_restore?.find((r) => r.type === "channel")?.model_pricing as
      | { models: string[] }[]
      | undefined;
    expect(channelBack?.map((p) => p.models)).toEqual(pricingBefore?.map((p) => p.models));
    const live = liveCount(sim);
    const rolled = await rollbackBatch(w.t.ctx, batchId);
    expect(rolled.status).toBe("rolled_back");
    // Judged on the host: the mappings are exactly as before the migration, nothing else touched.
    expect(mappingSnapshot(sim)).toEqual(snapshot);
    expect(liveCount(sim)).toBe(live);
    expect((await userCall(sim, OLD)).status).toBe(400);
  });

  it("a stale plan is refused before any write", async () => {
    w = await makeWorld();
    await importThenUpgrade(w.t, w.sim);
    const plan = await previewMigration(w.t.ctx, req);
    // Someone edits an account's mapping on the host after the review.
    const a = w.sim.sim.state.liveAccounts().find((x) => x.platform === "deepseek");
    if (!a) throw new Error("no account");
    a.credentials.model_mapping = { ...(a.credentials.model_mapping as object), extra: NEW };
    const snapshot = mappingSnapshot(w.sim);
    await expect(
      migrateProvider(w.t.ctx, req, { expectedFingerprint: plan.fingerprint }),
    ).rejects.toMatchObject({ code: "PLAN_STALE" });
    expect(mappingSnapshot(w.sim)).toEqual(snapshot);
    expect(await rowCount(w.t.ctx, "mapping_changes")).toBe(0);
  });
});

/** A host behind a proxy that lets the host act and loses the answer. */
async function proxiedWorld() {
  const sim = await startSimulator();
  // The client gives up after 300 ms; the proxy holds `hang` and `late` for 700.
  const proxy = await FaultProxy.start(sim.url);
  const t = await makeTestEnv({ RELAY_HOST_TIMEOUT_MS: "300" });
  closers.push(
    () => proxy.close(),
    () => sim.close(),
    () => t.cleanup(),
  );
  await installPack(t.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
  await addHost(t.ctx, { name: "sim", baseUrl: proxy.url, adminKey: sim.sim.state.adminApiKey });
  return { sim, proxy, t };
}

describe("model migration under faults where the host acts and the answer is lost", () => {
  for (const mode of ["drop", "503"] as const) {
    it(`${mode} on every mapping write: settled from the host, then rolled back to exactly the previous mappings`, async () => {
      const { sim, proxy, t } = await proxiedWorld();
      await importThenUpgrade(t, sim);
      const snapshot = mappingSnapshot(sim);
      proxy.arm({ match: /^PUT \/api\/v1\/admin\/(accounts|channels)\/\d+$/, mode, times: 100 });
      const result = await migrateProvider(t.ctx, req);
      proxy.disarm();
      await proxy.settle();
      expect(proxy.hits.length).toBeGreaterThanOrEqual(3);
      // Each answer was lost, but the host had acted: read back, each change is applied.
      expect(result.status).toBe("succeeded");
      expect(result.changes.map((c) => c.state)).toEqual(["applied", "applied", "applied"]);
      for (const creds of Object.values(mappingSnapshot(sim).accounts))
        expect((creds.model_mapping as Record<string, string>)[OLD]).toBe(NEW);
      expect((await userCall(sim, OLD)).status).toBe(200);

      // The rollback's own writes lose their answers too: it still ends with the previous mappings.
      proxy.arm({ match: /^PUT \/api\/v1\/admin\/(accounts|channels)\/\d+$/, mode, times: 1 });
      const rolled = await rollbackBatch(t.ctx, result.batch_id as string).catch(async () => {
        proxy.disarm();
        await proxy.settle();
        return await rollbackBatch(t.ctx, result.batch_id as string);
      });
      proxy.disarm();
      await proxy.settle();
      expect(rolled.status).toBe("rolled_back");
      expect(mappingSnapshot(sim)).toEqual(snapshot);
    });
  }

  for (const mode of ["late", "hang"] as const) {
    it(`${mode}: the host acts after relay gave up; a second run and the rollback end consistent`, async () => {
      const { sim, proxy, t } = await proxiedWorld();
      await importThenUpgrade(t, sim);
      const snapshot = mappingSnapshot(sim);
      proxy.arm({ match: /^PUT \/api\/v1\/admin\/channels\/\d+$/, mode, times: 100 });
      const first = await migrateProvider(t.ctx, req);
      proxy.disarm();
      await proxy.settle();
      // The accounts took; the channel's writes all landed after relay stopped waiting.
      expect(first.changes.filter((c) => c.target === "account").map((c) => c.state)).toEqual([
        "applied",
        "applied",
      ]);
      expect(Object.values(mappingSnapshot(sim).channels)).toEqual([{ deepseek: { [OLD]: NEW } }]);
      // Run again: the host already shows the alias everywhere, nothing to write.
      const second = await migrateProvider(t.ctx, req);
      expect(second.status).toBe("nothing_to_migrate");
      // The rollback undoes the first batch everywhere, the late channel write included.
      const rolled = await rollbackBatch(t.ctx, first.batch_id as string);
      expect(rolled.status).toBe("rolled_back");
      expect(mappingSnapshot(sim)).toEqual(snapshot);
    });
  }

  it("a host that refuses the write: the change is recorded failed, the batch can be rolled back", async () => {
    const { sim, proxy, t } = await proxiedWorld();
    await importThenUpgrade(t, sim);
    const snapshot = mappingSnapshot(sim);
    // The request never reaches the host (refused): nothing changed there.
    proxy.arm({ match: /^PUT \/api\/v1\/admin\/channels\/\d+$/, mode: "refuse", times: 100 });
    const result = await migrateProvider(t.ctx, req);
    proxy.disarm();
    expect(result.status).toBe("partially_succeeded");
    expect(result.changes.find((c) => c.target === "channel")?.state).toBe("failed");
    expect(Object.values(mappingSnapshot(sim).channels)).toEqual(Object.values(snapshot.channels));
    // Run again once the host takes it: only the channel is left to change.
    const again = await migrateProvider(t.ctx, req);
    expect(again.status).toBe("succeeded");
    expect(again.changes.map((c) => [c.target, c.state])).toEqual([["channel", "applied"]]);
    expect(Object.values(mappingSnapshot(sim).channels)).toEqual([{ deepseek: { [OLD]: NEW } }]);
    // Rolling both back, newest first, restores the host exactly.
    expect((await rollbackBatch(t.ctx, again.batch_id as string)).status).toBe("rolled_back");
    const rolled = await rollbackBatch(t.ctx, result.batch_id as string);
    expect(rolled.status).toBe("rolled_back");
    expect(mappingSnapshot(sim)).toEqual(snapshot);
  });
});

describe("the simulator resolves a model as sub2api does (docs/packs.md, Model migration)", () => {
  async function imported() {
    w = await makeWorld();
    await importThenUpgrade(w.t, w.sim);
    const s = w.sim.sim.state;
    const channel = [...s.channels.values()][0];
    if (!channel) throw new Error("no channel");
    return { s, channel, sim: w.sim };
  }

  it("the channel renames the body's model after the account was chosen by the name sent", async () => {
    const { s, channel, sim } = await imported();
    // Only the channel maps OLD (its key in another case, matched lower-cased): the accounts still
    // whitelist OLD, then map the channel's NEW to itself.
    channel.modelMapping = { deepseek: { [OLD.toUpperCase()]: NEW } };
    const ok = await userCall(sim, OLD);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain(`Hello from ${NEW}`);
    // An account whitelist without OLD refuses it before the channel is looked at.
    for (const a of s.liveAccounts().filter((x) => x.platform === "deepseek")) {
      const { [OLD]: _gone, ...rest } = a.credentials.model_mapping as Record<string, string>;
      a.credentials.model_mapping = rest;
    }
    expect((await userCall(sim, OLD)).status).toBe(404); // model_not_found (no_account_error.go);
    // A disabled channel maps nothing.
    channel.status = "disabled";
    expect((await userCall(sim, NEW)).status).toBe(200);
  });

  it("a rollback leaves a mapping someone changed since the migration as it is, and names it", async () => {
    const { s, sim } = await imported();
    const result = await migrateProvider((w as World).t.ctx, req);
    const a = s.liveAccounts().find((x) => x.platform === "deepseek");
    if (!a) throw new Error("no account");
    a.credentials.model_mapping = { [NEW]: NEW, "by-hand": NEW };
    const handMade = structuredClone(a.credentials);
    const rolled = await rollbackBatch((w as World).t.ctx, result.batch_id as string);
    expect(rolled.status).toBe("rolled_back");
    expect(rolled.status_reason).toMatch(/left as found: account .*changed on the host since the migration/);
    expect(a.credentials).toEqual(handMade);
    expect(mappingSnapshot(sim).accounts).not.toEqual({});
  });
});

describe("a migration a crash interrupted", () => {
  it("is rolled back by recovery: the host's mappings exactly as before", async () => {
    w = await makeWorld();
    await importThenUpgrade(w.t, w.sim);
    const snapshot = mappingSnapshot(w.sim);
    const result = await migrateProvider(w.t.ctx, req);
    const id = result.batch_id as string;
    // The process died after the host acted on every change, before any result was recorded.
    await rows(w.t.ctx, sql`UPDATE import_batches SET status = 'running' WHERE id = ${id}`);
    await rows(w.t.ctx, sql`UPDATE mapping_changes SET state = 'pending' WHERE batch_id = ${id}`);
    const [outcome] = await recoverBatches(w.t.ctx);
    expect(outcome).toMatchObject({ batch_id: id, action: "rolled_back", status: "rolled_back" });
    expect(mappingSnapshot(w.sim)).toEqual(snapshot);
    expect(await recoverBatches(w.t.ctx)).toEqual([]);
  });
});
