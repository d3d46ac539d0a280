import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { editedAt } from "../../src/domain/plan.js";
import { importKeys } from "../../src/provision/import.js";
import { previewTriage } from "../../src/provision/precheck.js";
import { buildPlan } from "../../src/provision/preview.js";
import { liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const alnum = (n: number) =>
  randomBytes(n)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "x")
    .slice(0, n);
/** A key in each provider's own format (its key_pattern in the shipped pack). */
const KEY: Record<string, () => string> = {
  deepseek: () => `sk-${randomBytes(16).toString("hex")}`,
  kimi: () => `sk-${alnum(40)}`,
  zhipu: () => `${alnum(32)}.${alnum(16)}`,
  qwen: () => `sk-${alnum(32)}`,
  minimax: () => alnum(48),
};

/**
 * The done-when of issue #27 item 4: valid, revoked, out-of-balance (in each provider's own
 * shape) and rate-limited keys in one partial import. Classes come from the provider's answer as
 * the host relays it; only the valid key's account stays on the host.
 */
describe("a partial import sorts keys by what their provider says", () => {
  it.each([
    // provider, class of the out-of-balance key, what the reason quotes
    ["deepseek", "balance_empty", /HTTP 402 Insufficient Balance/],
    ["kimi", "balance_empty", /HTTP 403 /],
    ["zhipu", "balance_empty", /HTTP 429 您的账户已欠费.*\(code 1113\)/],
    ["qwen", "balance_empty", /HTTP 400 Access denied.*\(code Arrearage\)/],
    // MiniMax says 1008 under HTTP 200 and sub2api's test does not relay that body: unknown.
    ["minimax", "unknown", /expected SSE JSON data/],
  ] as const)("%s", async (provider, emptyClass, emptyReason) => {
    w = await makeWorld();
    const up = w.sim.sim.upstream;
    const make = KEY[provider] as () => string;
    const [valid, revoked, empty, limited] = [make(), make(), make(), make()];
    up.revoke(revoked);
    up.emptyBalance.add(empty);
    up.rateLimited.add(limited);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: provider,
      keys: [valid, revoked, empty, limited],
      mode: "partial",
    });
    expect(r.status).toBe("partially_succeeded");
    const byLine = new Map(r.keys.map((k) => [k.line, k]));
    expect(byLine.get(1)).toMatchObject({ class: "ready", next_step: null });
    expect(byLine.get(2)).toMatchObject({ class: "revoked", next_step: expect.stringMatching(/^replace/) });
    expect(byLine.get(2)?.error).toMatch(/HTTP 401/);
    expect(byLine.get(3)).toMatchObject({ class: emptyClass });
    expect(byLine.get(3)?.error).toMatch(emptyReason);
    if (emptyClass === "balance_empty") expect(byLine.get(3)?.next_step).toMatch(/^fund/);
    expect(byLine.get(4)).toMatchObject({
      class: "rate_limited",
      next_step: expect.stringMatching(/^retry later/),
    });
    expect(r.triage.counts).toEqual({
      ready: 1,
      revoked: 1,
      balance_empty: emptyClass === "balance_empty" ? 1 : 0,
      wrong_region: 0,
      rate_limited: 1,
      unknown: emptyClass === "unknown" ? 1 : 0,
    });
    expect(r.triage.groups.map((g) => g.class).sort()).toEqual(
      ["rate_limited", "revoked", emptyClass].sort(),
    );
    // Judged from the host: one live account, the valid key's.
    const live = liveOnHost(w.sim, r.batch_id).accounts;
    expect(live.map((a) => a.credentials.api_key)).toEqual([valid]);
    // No raw upstream JSON and no key in the answer.
    const text = JSON.stringify(r);
    for (const k of [valid, revoked, empty, limited]) expect(text).not.toContain(k);
    expect(text).not.toMatch(/\{\\"error\\"|base_resp/);
    const metric = await w.t.ctx.metrics.registry.getSingleMetricAsString("relay_keys");
    expect(metric).toContain(`relay_keys{host="sim",provider="${provider}",class="ready"} 1`);
    expect(metric).toContain(`relay_keys{host="sim",provider="${provider}",class="revoked"} 1`);
  });

  it("offers the sibling region for a key of another region, and keeps a real revoked key revoked", async () => {
    w = await makeWorld();
    const up = w.sim.sim.upstream;
    const [valid, intl, revoked] = [KEY.qwen?.(), KEY.qwen?.(), KEY.qwen?.()] as string[];
    up.homes.set(valid as string, "https://dashscope.aliyuncs.com");
    up.homes.set(intl as string, "https://dashscope-intl.aliyuncs.com");
    up.revoke(revoked as string);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "qwen",
      keys: [valid, intl, revoked] as string[],
      mode: "partial",
    });
    const [a, b, c] = r.keys;
    expect(a).toMatchObject({ class: "ready" });
    expect(b).toMatchObject({
      class: "wrong_region",
      suggested_provider: "qwen-intl",
      next_step: expect.stringMatching(/^use provider qwen-intl/),
    });
    expect(c).toMatchObject({ class: "revoked", suggested_provider: null });
    expect(c?.next_step).toMatch(/another region, import it with provider qwen-intl or qwen-us/);
    expect(liveOnHost(w.sim, r.batch_id).accounts.map((x) => x.credentials.api_key)).toEqual([valid]);
  });

  it("finds the region from the account test too (--no-precheck): a .ai key on Kimi's .cn platform", async () => {
    w = await makeWorld();
    const [cn, ai] = [KEY.kimi?.(), KEY.kimi?.()] as string[];
    w.sim.sim.upstream.homes.set(ai as string, "https://api.moonshot.ai");
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "kimi",
      keys: [cn, ai] as string[],
      mode: "partial",
      precheck: false,
    });
    expect(r.keys[1]).toMatchObject({
      class: "wrong_region",
      error_code: "ACCOUNT_TEST_FAILED",
      suggested_provider: "kimi-intl",
    });
    expect(r.triage.groups).toEqual([
      expect.objectContaining({
        class: "wrong_region",
        suggested_provider: "kimi-intl",
        keys: [{ key: r.keys[1]?.key, line: 2 }],
      }),
    ]);
    expect(liveOnHost(w.sim, r.batch_id).accounts.map((a) => a.credentials.api_key)).toEqual([cn]);
  });

  it("leaves a Zhipu 429 to the account test: without the body, 429 could be arrears or a rate limit", async () => {
    w = await makeWorld();
    const up = w.sim.sim.upstream;
    const [valid, limited] = [KEY.zhipu?.(), KEY.zhipu?.()] as string[];
    up.rateLimited.add(limited as string);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "zhipu",
      keys: [valid, limited] as string[],
      mode: "partial",
    });
    // The pre-check saw 429 only; the account test saw code 1302 and decided.
    expect(r.keys[1]).toMatchObject({ class: "rate_limited", error_code: "ACCOUNT_TEST_FAILED" });
    expect(r.keys[1]?.error).toMatch(/code 1302/);
    expect(r.warnings.join(" ")).toMatch(/1 key\(s\) could not be pre-checked/);
  });
});

describe("a preview with precheck shows each key's class and writes nothing", () => {
  it("classifies by status, leaves what the status cannot tell to the import, and binds no triage", async () => {
    w = await makeWorld();
    const up = w.sim.sim.upstream;
    const [valid, revoked, empty, limited] = [
      KEY.deepseek?.(),
      KEY.deepseek?.(),
      KEY.deepseek?.(),
      KEY.deepseek?.(),
    ] as string[];
    up.revoke(revoked as string);
    up.emptyBalance.add(empty as string);
    up.rateLimited.add(limited as string);
    const req = {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [valid, revoked, empty, limited] as string[],
      mode: "partial" as const,
    };
    const before = w.sim.sim.state.accounts.size;
    const { plan, internals } = await buildPlan(w.t.ctx, req);
    const triaged = { ...plan, key_triage: await previewTriage(w.t.ctx, internals, plan) };
    expect(triaged.key_triage.map((k) => [k.line, k.class])).toEqual([
      [1, "ready"],
      [2, "revoked"],
      // Listing models costs nothing: an empty balance shows only in the import's chat test.
      [3, "ready"],
      [4, "rate_limited"],
    ]);
    expect(w.sim.sim.state.accounts.size).toBe(before);
    expect(JSON.stringify(triaged)).not.toContain(revoked as string);
    // The plan as reviewed (with its triage) is the plan the import recomputes.
    const fresh = await buildPlan(w.t.ctx, req);
    expect(editedAt(triaged, fresh.plan)).toBeUndefined();
    expect(fresh.plan.fingerprint).toBe(plan.fingerprint);
  });
});
