import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { importKeys } from "../../src/provision/import.js";
import { buildPlan } from "../../src/provision/preview.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { getBatch } from "../../src/store/batches.js";
import { exec, row, rowCount } from "../helpers/context.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("strict import succeeds on every host profile", () => {
  // Dec 2025 and 0.1.126 builds are refused before any write (tests/integration/compat.test.ts).
  it.each(["cn-native", "openai-compat"] as const)("%s", async (profile) => {
    w = await makeWorld({ profile });
    const keys = [deepseekKey(), deepseekKey(), deepseekKey()];
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys,
      mode: "strict",
      subscribe: [{ userId: 1, days: 30 }],
    });
    expect(r.status).toBe("succeeded");
    expect(r.summary).toMatchObject({ working: 3, failed: 0 });
    expect(r.created.account_ids).toHaveLength(3);
    const live = liveOnHost(w.sim, r.batch_id);
    expect(live.groups).toHaveLength(1);
    expect(live.accounts).toHaveLength(3);
    const group = live.groups[0];
    expect(group?.platform).toBe(profile === "cn-native" ? "deepseek" : "openai");
    expect(group?.subscriptionType).toBe("subscription");
    for (const a of live.accounts) {
      expect(a.groupIds).toEqual([group?.id]);
      expect(a.credentials.base_url).toBe("https://api.deepseek.com");
      expect(a.credentials.model_mapping).toEqual({
        "deepseek-flash": "deepseek-flash",
        "deepseek-v4-pro": "deepseek-v4-pro",
        // The old name still answers; the account sends the current one upstream.
        "deepseek-v4-flash": "deepseek-flash",
      });
      expect(a.priority).toBe(50);
      expect(a.concurrency).toBe(5);
      if (profile !== "cn-native") expect(a.extra.openai_responses_mode).toBe("force_chat_completions");
    }
    expect(live.channels).toHaveLength(1);
    expect(live.channels[0]?.modelPricing[0]?.input_price).toBeCloseTo(0.28e-6, 12);
    expect(live.subscriptions.map((s) => s.userId)).toEqual([1]);
    const batch = await getBatch(w.t.ctx, r.batch_id);
    expect(batch.probes.filter((p) => p.kind === "account_test" && p.success)).toHaveLength(3);
    expect(batch.keys.every((k) => k.status === "tested")).toBe(true);
  });
});

describe("strict failure rolls back: nothing of the batch stays on the host", () => {
  it.each([
    ["group create", /^POST \/api\/v1\/admin\/groups$/],
    ["account create", /^POST \/api\/v1\/admin\/accounts(\/batch)?$/],
    ["account test", /^POST \/api\/v1\/admin\/accounts\/\d+\/test$/],
  ])("failure at %s", async (_step, match) => {
    w = await makeWorld();
    w.sim.sim.options.faults = { errorRate: 1, match };
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
    });
    expect(r.status).toBe("rolled_back");
    expect(r.status_reason).toMatch(/import failed/);
    expect(liveCount(w.sim, r.batch_id)).toBe(0);
    expect(liveCount(w.sim)).toBe(0);
    expect(
      (await getBatch(w.t.ctx, r.batch_id)).resources.every((x) =>
        ["deleted", "gone", "failed"].includes(x.state),
      ),
    ).toBe(true);
  });

  it("a revoked key in strict mode fails the whole batch", async () => {
    w = await makeWorld();
    const bad = deepseekKey();
    w.sim.sim.upstream.revoke(bad);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), bad],
      mode: "strict",
    });
    expect(r.status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);
  });
});

describe("account tests overlap batch creation", () => {
  /**
   * Holds the n-th batch create (1-based) until `until` settles. A saga that did not overlap tests
   * with creates would never reach the event the hold waits for, and the test would time out.
   */
  const holdBatch = (n: number, until: Promise<unknown>) => {
    let seen = 0;
    return {
      match: /^POST \/api\/v1\/admin\/accounts\/batch$/,
      hold: () => (++seen === n ? until : undefined),
    };
  };
  const signal = () => {
    let fire: () => void = () => {};
    const fired = new Promise<void>((resolve) => {
      fire = resolve;
    });
    return { fire, fired };
  };

  it("a chunk's accounts are tested while the next chunk is created", async () => {
    w = await makeWorld();
    // Chunk 3's create waits until chunk 1's second test has finished.
    const secondTestDone = signal();
    w.sim.sim.options.faults = holdBatch(3, secondTestDone.fired);
    const events: string[] = [];
    const r = await importKeys(
      w.t.ctx,
      {
        hostRef: "sim",
        providerId: "deepseek",
        keys: Array.from({ length: 6 }, deepseekKey),
        mode: "strict",
      },
      {
        chunkSize: 2,
        onProgress: (e) => {
          events.push(`${e.phase}:${e.done ?? ""}/${e.total ?? ""}`);
          if (e.phase === "test" && (e.done ?? 0) >= 2) secondTestDone.fire();
        },
      },
    );
    expect(r.status).toBe("succeeded");
    expect(r.summary).toMatchObject({ working: 6 });
    // Chunk 1's two tests finish before chunk 3's accounts exist (created 6/6).
    const lastCreate = events.indexOf("accounts:6/6");
    const secondTest = events.findIndex((e) => e.startsWith("test:2/"));
    expect(lastCreate).toBeGreaterThan(0);
    expect(secondTest).toBeGreaterThanOrEqual(0);
    expect(secondTest).toBeLessThan(lastCreate);
  });

  it("strict mode stops creating once a test has failed; the host keeps nothing", async () => {
    w = await makeWorld();
    // Chunk 2's create waits until chunk 1's failed test is known.
    const failureKnown = signal();
    w.sim.sim.options.faults = holdBatch(2, failureKnown.fired);
    const keys = Array.from({ length: 6 }, deepseekKey);
    w.sim.sim.upstream.revoke(keys[0] as string);
    const r = await importKeys(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" },
      {
        chunkSize: 2,
        onProgress: (e) => {
          if (e.phase === "test" && / failed \(/.test(e.message ?? "")) failureKnown.fire();
        },
      },
    );
    expect(r.status).toBe("rolled_back");
    expect(r.status_reason).toMatch(/account test/);
    expect(liveCount(w.sim)).toBe(0);
    // Judged from the host: accounts are soft-deleted there, so every account ever created counts.
    // Chunk 1's failure is known while chunk 2 is being created; chunk 3 is never sent.
    expect(w.sim.sim.state.accounts.size).toBe(4);
  });
});

describe("partial import", () => {
  it.each([
    [
      "pre-checked (the default)",
      undefined,
      "KEY_REFUSED_BY_UPSTREAM",
      /Upstream model list request failed with HTTP 401/,
    ],
    ["found by its account test (--no-precheck)", false, "ACCOUNT_TEST_FAILED", /returned 401/],
  ] as const)(
    "keeps the working keys and names the revoked one with the host's reason: %s",
    async (_, precheck, code, error) => {
      w = await makeWorld();
      const [a, b, bad] = [deepseekKey(), deepseekKey(), deepseekKey()];
      w.sim.sim.upstream.revoke(bad);
      const r = await importKeys(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: [a, b, bad],
        mode: "partial",
        ...(precheck === undefined ? {} : { precheck }),
      });
      expect(r.status).toBe("partially_succeeded");
      expect(r.summary).toMatchObject({ working: 2, failed: 1 });
      const failed = r.keys.find((k) => k.status === "failed");
      expect(failed?.key).toBe(`sk-…${bad.slice(-4)}`);
      expect(failed?.error_code).toBe(code);
      expect(failed?.error).toMatch(error);
      expect(liveOnHost(w.sim).accounts).toHaveLength(2);
      expect(JSON.stringify(r)).not.toContain(bad);
    },
  );

  it("fails (and rolls back) when no key works", async () => {
    w = await makeWorld();
    const bad = deepseekKey();
    w.sim.sim.upstream.revoke(bad);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [bad],
      mode: "partial",
    });
    expect(r.status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);
  });
});

describe("idempotence and concurrency", () => {
  it("re-importing the same keys creates nothing new", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey()];
    const first = await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    expect(first.status).toBe("succeeded");
    const before = w.sim.sim.state.liveCounts();
    const preview = await buildPlan(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys,
      mode: "strict",
    });
    expect(preview.plan.summary).toMatchObject({ create: 0, reuse: 4 });
    const second = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys,
      mode: "strict",
    });
    expect(second.status).toBe("succeeded");
    expect(second.summary.reused).toBe(2);
    expect(w.sim.sim.state.liveCounts()).toEqual(before);
  });

  it("two concurrent imports of one provider on one host: one is refused with 409", async () => {
    w = await makeWorld({ faults: { latencyMs: 20 } });
    const results = await Promise.allSettled([
      importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys: [deepseekKey()], mode: "strict" }),
      importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys: [deepseekKey()], mode: "strict" }),
    ]);
    const refused = results.filter((x) => x.status === "rejected");
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      kind: "conflict",
      code: "PROVIDER_BUSY",
    });
    expect(results.filter((x) => x.status === "fulfilled")).toHaveLength(1);
  });
});

describe("rollback", () => {
  it("removes only what the batch created, in reverse order, and is safe to re-run", async () => {
    w = await makeWorld();
    const first = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      subscribe: [{ userId: 1 }],
    });
    const second = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    expect(liveOnHost(w.sim).accounts).toHaveLength(2);
    await expect(rollbackBatch(w.t.ctx, first.batch_id)).rejects.toMatchObject({ code: "DEPENDENT_BATCHES" });
    const rb2 = await rollbackBatch(w.t.ctx, second.batch_id);
    expect(rb2.status).toBe("rolled_back");
    expect(liveOnHost(w.sim).accounts).toHaveLength(1);
    expect(liveOnHost(w.sim).groups).toHaveLength(1);
    const rb1 = await rollbackBatch(w.t.ctx, first.batch_id);
    expect(rb1.status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);
    expect((await rollbackBatch(w.t.ctx, first.batch_id)).status).toBe("rolled_back");
  });

  it("tolerates resources deleted by hand, and never reuses a name afterwards", async () => {
    w = await makeWorld({ profile: "openai-compat" });
    const keys = [deepseekKey()];
    const first = await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    const account = liveOnHost(w.sim).accounts[0];
    if (account) account.deletedAt = Date.now();
    const rb = await rollbackBatch(w.t.ctx, first.batch_id);
    expect(rb.status).toBe("rolled_back");
    const again = await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    expect(again.status).toBe("succeeded");
    const names = liveOnHost(w.sim).groups.map((g) => g.name);
    expect(names).toEqual([`relay-deepseek-${w.t.ctx.installId}-g2`]);
  });

  it("a failed delete leaves the batch failed and the provider drifted; re-running finishes", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    w.sim.sim.options.faults = { errorRate: 1, match: /^DELETE \/api\/v1\/admin\/groups\/\d+$/ };
    await expect(rollbackBatch(w.t.ctx, r.batch_id)).rejects.toMatchObject({ code: "ROLLBACK_INCOMPLETE" });
    expect((await getBatch(w.t.ctx, r.batch_id)).status).toBe("failed");
    expect(await row(w.t.ctx, sql`SELECT status FROM provider_installs`)).toEqual({
      status: "drifted",
    });
    w.sim.sim.options.faults = {};
    expect((await rollbackBatch(w.t.ctx, r.batch_id)).status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);
  });
});

describe("key intake", () => {
  it("handles BOM, CRLF, blank lines, comments and duplicates", async () => {
    w = await makeWorld();
    const [a, b] = [deepseekKey(), deepseekKey()];
    const text = `\uFEFF# DeepSeek keys\r\n${a}\r\n\r\n   ${b}   \r\n# again\r\n${a}\r\n`;
    const { plan } = await buildPlan(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: Buffer.from(text),
      mode: "strict",
    });
    expect(plan.keys.map((k) => k.key)).toEqual([`sk-…${a.slice(-4)}`, `sk-…${b.slice(-4)}`]);
    expect(plan.summary).toMatchObject({ keys: 2, duplicates: 1, ignored_lines: 3 }); // two comments and one blank line; the final newline ends a line
  });

  it("flags keys that fail the provider's key_pattern and skips them", async () => {
    w = await makeWorld();
    const { plan } = await buildPlan(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), "not-a-deepseek-key"],
      mode: "partial",
    });
    expect(plan.keys[1]).toMatchObject({ action: "skip" });
    expect(plan.keys[1]?.reason).toMatch(/key_pattern \(line 2\)/);
  });

  it("accepts 10,000 keys and refuses 10,001, binary junk and over-long lines — changing nothing", async () => {
    w = await makeWorld();
    const many = Array.from({ length: 10_000 }, () => deepseekKey()).join("\n");
    const { plan } = await buildPlan(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: Buffer.from(many),
      mode: "partial",
    });
    expect(plan.summary.keys).toBe(10_000);
    const tooMany = `${many}\n${deepseekKey()}`;
    await expect(
      buildPlan(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: Buffer.from(tooMany),
        mode: "partial",
      }),
    ).rejects.toMatchObject({ code: "TOO_MANY_KEYS" });
    await expect(
      buildPlan(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]),
        mode: "partial",
      }),
    ).rejects.toMatchObject({ code: "KEYS_NOT_TEXT" });
    await expect(
      buildPlan(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: Buffer.from(`sk-${"a".repeat(600)}`),
        mode: "partial",
      }),
    ).rejects.toMatchObject({
      code: "KEY_LINE_TOO_LONG",
    });
    expect(await rowCount(w.t.ctx, "import_batches")).toBe(0);
    expect(liveCount(w.sim)).toBe(0);
  });
});

describe("preview", () => {
  it("is read-only, shows the mapping and refuses a host outside the pack's range", async () => {
    w = await makeWorld({ profile: "openai-compat" });
    const before = w.sim.sim.state.liveCounts();
    const { plan } = await buildPlan(w.t.ctx, {
      hostRef: "sim",
      providerId: "kimi",
      keys: [`sk-${"a".repeat(40)}`],
      mode: "strict",
      subscribe: [{ userId: 1 }],
    });
    expect(plan.mapping).toMatchObject({
      platform: "openai",
      via_fallback: true,
      extra: { openai_responses_mode: "force_chat_completions" },
    });
    expect(plan.resources.map((r) => [r.type, r.action])).toEqual([
      ["group", "create"],
      ["channel", "create"],
    ]);
    expect(plan.subscriptions[0]).toMatchObject({ user_id: 1, action: "create", validity_days: 30 });
    expect(plan.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(w.sim.sim.state.liveCounts()).toEqual(before);
    await exec(w.t.ctx, sql`UPDATE hosts SET version = '2.0.0'`);
    await expect(
      buildPlan(w.t.ctx, {
        hostRef: "sim",
        providerId: "kimi",
        keys: [`sk-${"a".repeat(40)}`],
        mode: "strict",
      }),
    ).rejects.toMatchObject({
      code: "PACK_HOST_INCOMPATIBLE",
    });
  });
});
