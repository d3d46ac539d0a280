import { afterEach, describe, expect, it } from "vitest";
import { importKeys } from "../../src/provision/import.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";
import type { ProfileName } from "../sim/sub2api/profiles.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const reconcile = () =>
  reconcileProvider(
    w.t.ctx,
    { hostRef: "sim", providerId: "deepseek" },
    { trigger: "manual", retest: { kind: "none" } },
  );

async function imported(profile?: ProfileName) {
  w = await makeWorld(profile ? { profile } : {});
  const r = await importKeys(w.t.ctx, {
    hostRef: "sim",
    providerId: "deepseek",
    keys: [deepseekKey()],
    mode: "strict",
    withPlan: true,
  });
  expect(["succeeded"]).toContain(r.status);
}

// #25 item 3: every attribute relay set on the host is watched.
describe("every managed field watched", () => {
  it.each(["v0.1.150", "v0.1.179", "openai-compat", "cn-native"] as ProfileName[])(
    "%s: a clean import reconciles without a changed finding",
    async (profile) => {
      await imported(profile);
      const r = await reconcile();
      expect(r.findings.filter((f) => f.kind === "changed")).toEqual([]);
    },
  );

  it("each field edited by hand on the host is a changed finding with expected and actual", async () => {
    await imported();
    const live = liveOnHost(w.sim);
    const [g, a, c, p] = [live.groups[0], live.accounts[0], live.channels[0], live.plans[0]];
    if (!g || !a || !c || !p) throw new Error("resources");
    const tag = g.description;
    Object.assign(g, {
      rateMultiplier: 2.5,
      dailyLimitUsd: 1,
      weeklyLimitUsd: 2,
      monthlyLimitUsd: 3,
      isExclusive: true,
      description: "edited",
      subscriptionType: "standard",
      status: "inactive",
    });
    Object.assign(a, { concurrency: 1, priority: 1, schedulable: false });
    a.credentials = { ...a.credentials, model_mapping: { "deepseek-chat": "other" } };
    const price = c.modelPricing[0];
    if (!price) throw new Error("pricing");
    price.input_price *= 2;
    c.modelMapping = { deepseek: { "deepseek-chat": "other" } };
    Object.assign(p, { price: 1, validityDays: 7 });
    const r = await reconcile();
    const changed = (type: string) =>
      Object.fromEntries(
        r.findings
          .filter((f) => f.kind === "changed" && f.resource_type === type)
          .map((f) => [f.field, { expected: f.expected, actual: f.actual }]),
      );
    expect(changed("group")).toMatchObject({
      rate_multiplier: { expected: 1, actual: 2.5 },
      daily_limit_usd: { expected: 5, actual: 1 },
      weekly_limit_usd: { expected: 25, actual: 2 },
      monthly_limit_usd: { expected: 80, actual: 3 },
      is_exclusive: { expected: false, actual: true },
      description: { expected: tag, actual: "edited" },
      subscription_type: { expected: "subscription", actual: "standard" },
      status: { expected: "active", actual: "inactive" },
    });
    expect(changed("account")).toMatchObject({
      concurrency: { expected: 5, actual: 1 },
      priority: { expected: 50, actual: 1 },
      schedulable: { expected: true, actual: false },
      model_mapping: { actual: { "deepseek-chat": "other" } },
    });
    expect(Object.keys(changed("channel")).sort()).toEqual(["model_mapping", "model_pricing"]);
    expect(changed("plan")).toMatchObject({
      price: { expected: 29, actual: 1 },
      validity_days: { expected: 30, actual: 7 },
    });
    expect(r.new_status).toBe("drifted");
    // Each stays with a command to deal with it.
    for (const f of r.findings.filter((x) => x.kind === "changed")) expect(f.next_step).toMatch(/relay /);
  });

  it("account group bindings: an account moved to another group is reported", async () => {
    await imported();
    const a = liveOnHost(w.sim).accounts[0];
    if (!a) throw new Error("account");
    const before = a.groupIds;
    a.groupIds = [9999];
    const r = await reconcile();
    expect(r.findings).toContainEqual(
      expect.objectContaining({ field: "group_ids", expected: before, actual: [9999] }),
    );
  });
});
