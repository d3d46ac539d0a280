import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { importKeys } from "../../src/provision/import.js";
import { withBalances } from "../../src/reconcile/balance.js";
import { providerStatus } from "../../src/reconcile/status.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { json } from "../helpers/json.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

async function imported(profile: "cn-native" | "openai-compat") {
  w = await makeWorld({ profile });
  const keys = [deepseekKey(), deepseekKey()];
  const r = await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
  expect(r.status).toBe("succeeded");
  return keys as [string, string];
}

/** Issue #27 item 5: the balance the host knows (0.1.178+), per relay account, never from a provider directly. */
describe("provider status shows each account's balance where the host knows it", () => {
  it("reads it through the host's balance route, names a refused key, and sets relay_account_balance", async () => {
    const [rich, poor] = await imported("cn-native");
    const up = w.sim.sim.upstream;
    up.balances.set(rich, [
      { currency: "CNY", balance: 110 },
      { currency: "USD", balance: 2.5 },
    ]);
    up.balances.set(poor, [{ currency: "CNY", balance: 3 }]);
    const app = createApp(w.t.ctx);
    const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
    const body = await json(app.request("/api/providers/deepseek/status?balance=true", { headers: auth }));
    const balances = body.hosts[0].balances as { account_id: number; balances: unknown; success: boolean }[];
    const byKey = new Map(liveOnHost(w.sim).accounts.map((a) => [a.credentials.api_key, a.id]));
    expect(balances).toHaveLength(2);
    expect(balances.find((b) => b.account_id === byKey.get(rich))).toMatchObject({
      success: true,
      balance: 110,
      currency: "CNY",
      balances: [
        { currency: "CNY", balance: 110 },
        { currency: "USD", balance: 2.5 },
      ],
    });
    expect(balances.find((b) => b.account_id === byKey.get(poor))).toMatchObject({ balance: 3 });
    const metric = await w.t.ctx.metrics.registry.getSingleMetricAsString("relay_account_balance");
    expect(metric).toContain('relay_account_balance{host="sim",provider="deepseek",currency="CNY"} 3');
    expect(metric).toContain('relay_account_balance{host="sim",provider="deepseek",currency="USD"} 2.5');
    // Without the flag: no host call for balances, no field.
    const plain = await json(app.request("/api/providers/deepseek/status", { headers: auth }));
    expect(plain.hosts[0].balances).toBeUndefined();
    // A key revoked since: the host answers success:false with its reason, still 200.
    up.revoke(rich);
    const again = await withBalances(w.t.ctx, await providerStatus(w.t.ctx, "deepseek"));
    expect(again.hosts[0]?.balances?.find((b) => b.account_id === byKey.get(rich))).toMatchObject({
      success: false,
      balance: null,
      error: "Authentication failed (HTTP 401)",
    });
    expect(JSON.stringify(again)).not.toContain(rich);
  });

  it("an older build (0.1.150, OpenAI fallback, no balance route): the field is absent and nothing fails", async () => {
    await imported("openai-compat");
    const v = await withBalances(w.t.ctx, await providerStatus(w.t.ctx, "deepseek"));
    expect(v.hosts[0]).toBeDefined();
    expect(v.hosts[0]?.balances).toBeUndefined();
  });
});

describe("Kimi balances: the host asks only api.moonshot.cn", () => {
  it("shows a Kimi (CN) account's balance, and none for kimi-intl, which the host would ask at the wrong platform", async () => {
    w = await makeWorld({ profile: "cn-native" });
    const up = w.sim.sim.upstream;
    const cn = deepseekKey();
    const ai = deepseekKey();
    up.homes.set(cn, "https://api.moonshot.cn");
    up.homes.set(ai, "https://api.moonshot.ai");
    up.balances.set(cn, [{ currency: "CNY", balance: 42 }]);
    for (const [providerId, key] of [
      ["kimi", cn],
      ["kimi-intl", ai],
    ] as const) {
      const r = await importKeys(w.t.ctx, { hostRef: "sim", providerId, keys: [key], mode: "strict" });
      expect(r.status, providerId).toBe("succeeded");
    }
    const kimi = await withBalances(w.t.ctx, await providerStatus(w.t.ctx, "kimi"));
    expect(kimi.hosts[0]?.balances).toMatchObject([{ success: true, balance: 42, currency: "CNY" }]);
    // The host would answer the .ai key "Authentication failed (HTTP 401)" at api.moonshot.cn: relay
    // does not ask, so no refused-key error is shown for a key that works.
    const intl = await withBalances(w.t.ctx, await providerStatus(w.t.ctx, "kimi-intl"));
    expect(intl.hosts[0]).toBeDefined();
    expect(intl.hosts[0]?.balances).toBeUndefined();
  });
});
