import { afterEach, describe, expect, it } from "vitest";
import { hostAdapterFor } from "../../src/app/host-access.js";
import { importKeys } from "../../src/provision/import.js";
import { HostPass } from "../../src/reconcile/host-pass.js";
import { reconcileAll } from "../../src/reconcile/runner.js";
import { findHost, latestCapabilities } from "../../src/store/hosts.js";
import { liveResources } from "../../src/store/resources.js";
import { countingHostCalls } from "../helpers/context.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const zhipuKey = () => `${"a".repeat(32)}.${deepseekKey().slice(3, 19)}`;
const KEYS: Record<string, () => string> = { deepseek: deepseekKey, kimi: deepseekKey, zhipu: zhipuKey };

describe("reconcile per host: one pass shares the list calls and the probe login", () => {
  it("three providers: each list kind read once per host, one probe login, the same findings as one by one", async () => {
    w = await makeWorld();
    for (const providerId of Object.keys(KEYS)) {
      const r = await importKeys(w.t.ctx, {
        hostRef: "sim",
        providerId,
        keys: [KEYS[providerId]?.() ?? "", KEYS[providerId]?.() ?? ""],
        mode: "strict",
        accessMode: "subscription",
      });
      expect(r.status).toBe("succeeded");
    }
    // Drift on one provider, made by hand on the host.
    const zhipuAccount = liveOnHost(w.sim).accounts.find((a) => a.name.startsWith("zhipu-"));
    if (!zhipuAccount) throw new Error("no zhipu account");
    zhipuAccount.deletedAt = Date.now();

    const ops: string[] = [];
    const results = await reconcileAll(countingHostCalls(w.t.ctx, ops), { trigger: "cli" });
    expect(results.map((r) => [r.provider_id, r.outcome]).sort()).toEqual([
      ["deepseek", "ok"],
      ["kimi", "ok"],
      ["zhipu", "drift"],
    ]);
    const zhipu = results.find((r) => r.provider_id === "zhipu");
    expect(zhipu?.findings.map((f) => [f.kind, f.name])).toEqual([["missing", zhipuAccount.name]]);
    const count = (op: string) => ops.filter((o) => o === op).length;
    for (const list of [
      "groups.list",
      "accounts.list",
      "channels.list",
      "plans.list",
      "subscriptions.list",
    ]) {
      expect(count(list), list).toBe(1); // one page each on this host, for all three providers
    }
    expect(count("auth.login")).toBe(1);
    expect(count("keys.list")).toBe(1);
    expect(count("gateway.chat_completions")).toBe(3);
    expect(count("accounts.test")).toBe(5); // every account still on the host re-tested
  });

  it("freshness: a provider changed after the snapshot is listed again, never judged from stale lists", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const ctx = w.t.ctx;
    const host = await findHost(ctx, "sim");
    const adapter = await hostAdapterFor(ctx, host);
    const caps = await latestCapabilities(ctx, host.id);
    const pass = new HostPass(ctx, host.id);
    const first = await pass.observe(
      adapter,
      "deepseek",
      caps,
      await liveResources(ctx, host.id, "deepseek"),
    );
    expect(first?.accounts).toHaveLength(1);
    // kimi is imported after the snapshot was taken: its records are newer than the snapshot.
    await new Promise((r) => setTimeout(r, 5));
    await importKeys(ctx, { hostRef: "sim", providerId: "kimi", keys: [deepseekKey()], mode: "strict" });
    const kimi = await pass.observe(adapter, "kimi", caps, await liveResources(ctx, host.id, "kimi"));
    expect(kimi).toBeUndefined(); // the runner then lists kimi's resources itself
    const again = await pass.observe(
      adapter,
      "deepseek",
      caps,
      await liveResources(ctx, host.id, "deepseek"),
    );
    expect(again?.accounts).toHaveLength(1);
  });
});
