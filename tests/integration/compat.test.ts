import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { AppContext } from "../../src/app/context.js";
import { isAppError } from "../../src/domain/errors.js";
import { importKeys } from "../../src/provision/import.js";
import { buildPlan } from "../../src/provision/preview.js";
import { assignManyAndRecord } from "../../src/steps/subscriptions.js";
import { exec } from "../helpers/context.js";
import { liveOnHost, makeWorld, type World } from "../helpers/world.js";
import { makeProxiedWorld } from "../reliability/lost-answers.js";
import { SecretLedger } from "../reliability/suite.js";
import type { ProfileName } from "../sim/sub2api/profiles.js";

/**
 * The compatibility matrix (docs/host-compatibility.md) against the simulator's real releases:
 * a build that cannot test and serve a provider is refused before any host write; every other
 * shipped provider imports and proves access through the gateway.
 */
let w: World;
afterEach(async () => {
  await w?.close();
});

const alnum = (n: number) =>
  randomBytes(n)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .padEnd(n, "x")
    .slice(0, n);

/** A key of each shipped provider family's shape (its pack's key_pattern; region variants copy it). */
const FAMILY_KEY: Record<string, () => string> = {
  deepseek: () => `sk-${alnum(32)}`,
  kimi: () => `sk-${alnum(40)}`,
  minimax: () => alnum(48),
  qwen: () => `sk-${alnum(32)}`,
  zhipu: () => `${alnum(32)}.${alnum(16)}`,
};
/** Each shipped provider: the family's default (China) and its region variants. */
const REGIONS: Record<string, string[]> = {
  deepseek: ["deepseek"],
  kimi: ["kimi", "kimi-intl"],
  minimax: ["minimax", "minimax-intl"],
  qwen: ["qwen", "qwen-intl", "qwen-us"],
  zhipu: ["zhipu", "zhipu-intl"],
};
const KEY: Record<string, () => string> = Object.fromEntries(
  Object.entries(REGIONS).flatMap(([family, ids]) =>
    ids.map((id) => [id, FAMILY_KEY[family] as () => string]),
  ),
);
const PROVIDERS = Object.keys(KEY);

async function refusal(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (err) {
    if (isAppError(err)) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("refused before any host write where the build cannot test and serve the provider", () => {
  it.each([
    ["dec-2025", PROVIDERS, "0.1.130"],
    ["v0.1.126", PROVIDERS, "0.1.130"],
  ] as [ProfileName, string[], string][])("%s refuses %j", async (profile, refused, firstWorking) => {
    w = await makeWorld({ profile });
    const writesBefore = w.sim.sim.writes.length;
    for (const providerId of refused) {
      const keys = [KEY[providerId]?.() ?? ""];
      const preview = await refusal(() =>
        buildPlan(w.t.ctx, { hostRef: "sim", providerId, keys, mode: "strict" }),
      );
      expect(preview.code).toBe("PROVIDER_UNSUPPORTED_ON_HOST");
      const imp = await refusal(() =>
        importKeys(w.t.ctx, { hostRef: "sim", providerId, keys, mode: "strict", subscribe: [{ userId: 1 }] }),
      );
      expect(imp.code).toBe("PROVIDER_UNSUPPORTED_ON_HOST");
      expect(imp.message).toContain(providerId);
      expect(imp.hint).toContain(firstWorking);
    }
    // Judged from the host: nothing was written, nothing of relay's is live.
    expect(w.sim.sim.writes.slice(writesBefore)).toEqual([]);
    const live = liveOnHost(w.sim);
    expect(live.groups.length + live.accounts.length + live.subscriptions.length).toBe(0);
  });
});

describe("every servable shipped provider imports and proves access through the gateway", () => {
  it.each([
    [
      "v0.1.179",
      PROVIDERS,
      { deepseek: "deepseek", kimi: "kimi", "kimi-intl": "kimi", zhipu: "zhipu", "zhipu-intl": "zhipu" },
    ],
    // Version-directory joining from 0.1.127: Zhipu's …/v4 base works through the fallback.
    ["v0.1.150", PROVIDERS, {}],
    // 0.1.178's CN account test is broken; its OpenAI fallback works, so every provider uses it.
    ["v0.1.178", PROVIDERS, {}],
  ] as [ProfileName, string[], Record<string, string>][])("%s: %j", async (profile, providers, platforms) => {
    w = await makeWorld({ profile });
    for (const providerId of providers) {
      const keys = [KEY[providerId]?.() ?? "", KEY[providerId]?.() ?? ""];
      const r = await importKeys(w.t.ctx, {
        hostRef: "sim",
        providerId,
        keys,
        mode: "strict",
        accessMode: "subscription",
        subscribe: [{ userId: 1, days: 30 }],
      });
      expect(r.status, `${providerId}: ${r.status_reason}`).toBe("succeeded");
      expect(r.access_closure_status, providerId).toBe("subscription_ready");
      const group = liveOnHost(w.sim, r.batch_id).groups[0];
      expect(group?.platform, providerId).toBe(platforms[providerId] ?? "openai");
    }
    // Each provider was reached at its real path, joined the way this build joins.
    const paths = new Set(w.sim.sim.upstream.urls.map((u) => new URL(u).host + new URL(u).pathname));
    const reached: Record<string, string> = {
      kimi: "api.moonshot.cn/v1/chat/completions",
      "kimi-intl": "api.moonshot.ai/v1/chat/completions",
      zhipu: "open.bigmodel.cn/api/paas/v4/chat/completions",
      "zhipu-intl": "api.z.ai/api/paas/v4/chat/completions",
      qwen: "dashscope.aliyuncs.com/compatible-mode/v1/chat/completions",
      "qwen-intl": "dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions",
      "qwen-us": "dashscope-us.aliyuncs.com/compatible-mode/v1/chat/completions",
      minimax: "api.minimaxi.com/v1/chat/completions",
      "minimax-intl": "api.minimax.io/v1/chat/completions",
    };
    for (const id of providers) if (reached[id]) expect(paths, id).toContain(reached[id]);
  });
});

describe("the simulator joins and routes as each build does", () => {
  it("a Zhipu account made by hand on 0.1.150 is tested at …/v4/chat/completions (version-directory joining from 0.1.127)", async () => {
    w = await makeWorld({ profile: "v0.1.150" });
    const { createAccount } = await import("../sim/sub2api/admin-accounts.js");
    const made = createAccount(w.sim.sim, {
      name: "by-hand",
      platform: "openai",
      type: "apikey",
      credentials: { api_key: KEY.zhipu?.(), base_url: "https://open.bigmodel.cn/api/paas/v4" },
      extra: { openai_responses_mode: "force_chat_completions" },
    });
    if (!made.ok) throw new Error(made.message);
    const res = await fetch(`${w.sim.url}/api/v1/admin/accounts/${made.account.id}/test`, {
      method: "POST",
      headers: { "x-api-key": w.sim.sim.state.adminApiKey, "content-type": "application/json" },
      body: JSON.stringify({ model_id: "glm-4.7" }),
    });
    expect(await res.text()).toMatch(/"test_complete","success":true/);
    expect(w.sim.sim.upstream.urls.at(-1)).toBe("https://open.bigmodel.cn/api/paas/v4/chat/completions");
  });
});

describe("keys checked with their upstream before any write (sync-upstream-preview, 0.1.134+)", () => {
  it("a partial import of 2 valid keys and 1 revoked key creates exactly 2 accounts", async () => {
    w = await makeWorld({ profile: "v0.1.179" });
    const [a, b, revoked] = [KEY.deepseek?.() ?? "", KEY.deepseek?.() ?? "", KEY.deepseek?.() ?? ""];
    w.sim.sim.upstream.revoke(revoked);
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [a, b, revoked],
      mode: "partial",
    });
    expect(r.status).toBe("partially_succeeded");
    const failed = r.keys.filter((k) => k.status === "failed");
    expect(failed).toMatchObject([
      { key: `sk-…${revoked.slice(-4)}`, error_code: "KEY_REFUSED_BY_UPSTREAM", account_id: null },
    ]);
    // From the host: two accounts were ever made, none of them holds the revoked key.
    const made = [...w.sim.sim.state.accounts.values()];
    expect(made).toHaveLength(2);
    expect(made.map((x) => x.credentials.api_key)).not.toContain(revoked);
    // Four previews were sent: the URL-allowlist check's (first new key) before the batch opens,
    // then one per key; the host answered three with the model list (the revoked key's is a 502).
    expect(w.sim.sim.writes.filter((x) => x.includes("sync-upstream-preview"))).toHaveLength(3);
  });

  it("strict with --precheck: a refused key stops the import before the first write", async () => {
    w = await makeWorld({ profile: "v0.1.179" });
    const revoked = KEY.deepseek?.() ?? "";
    w.sim.sim.upstream.revoke(revoked);
    const writesBefore = w.sim.sim.writes.length;
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [KEY.deepseek?.() ?? "", revoked],
      mode: "strict",
      precheck: true,
    });
    expect(r.status).toBe("rolled_back");
    expect(r.status_reason).toMatch(/key precheck: .* refused by the upstream/);
    const written = w.sim.sim.writes.slice(writesBefore).filter((x) => !x.includes("sync-upstream-preview"));
    expect(written).toEqual([]);
  });

  it("a build without the route tests every key the old way", async () => {
    w = await makeWorld({ profile: "v0.1.126" });
    const host = await (await import("../../src/hosts/hosts.js")).getHost(w.t.ctx, "sim");
    expect(host.capabilities.models_preview).toBe(false);
  });
});

describe("subscription targets in one bulk call", () => {
  it("3 targets with the same validity go out in one bulk-assign; a lost bulk answer is settled user by user", async () => {
    w = await makeWorld({ profile: "v0.1.179" });
    const users = [1, 2, 3].map(
      (i) => w.sim.sim.state.addUser({ email: `u${i}@example.com`, password: "pw-123456" }).id,
    );
    const writesBefore = w.sim.sim.writes.length;
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [KEY.deepseek?.() ?? ""],
      mode: "strict",
      subscribe: users.map((userId) => ({ userId, days: 30 })),
    });
    expect(r.status).toBe("succeeded");
    expect(r.subscriptions.map((x) => x.status)).toEqual(["assigned", "assigned", "assigned"]);
    const subscriptionCalls = w.sim.sim.writes
      .slice(writesBefore)
      .filter((x) => x.includes("/admin/subscriptions"));
    expect(subscriptionCalls).toEqual(["POST /api/v1/admin/subscriptions/bulk-assign"]);
    const group = liveOnHost(w.sim, r.batch_id).groups[0];
    const live = [...w.sim.sim.state.subscriptions.values()].filter((x) => x.groupId === group?.id);
    expect(live.map((x) => x.userId).sort()).toEqual(users);
  });

  it.each(["v0.1.179", "dec-2025"] as const)(
    "%s: relay's own subscription asked for longer is extended, not left short or doubled",
    async (profile) => {
      const pw = await makeProxiedWorld(profile, new SecretLedger());
      try {
        const { hostAdapterFor } = await import("../../src/app/host-access.js");
        const { findHost } = await import("../../src/store/hosts.js");
        const adapter = await hostAdapterFor(pw.ctx, await findHost(pw.ctx, "sim"));
        const group = pw.sim.sim.state.liveGroups().find((g) => g.subscriptionType === "subscription");
        if (!group) throw new Error("the foreign fixture has no subscription group");
        const userId = pw.sim.sim.state.addUser({ email: "x@example.com", password: "pw-123456" }).id;
        const notes = "managed-by=sub2api-cn-relay-manager install=0a1b2c3d provider=deepseek batch=b_x";
        await adapter.assignSubscription({ userId, groupId: group.id, validityDays: 30, notes });
        const longer = await adapter.assignSubscription({
          userId,
          groupId: group.id,
          validityDays: 60,
          notes,
        });
        expect(longer.kind).toBe("assigned");
        const held = [...pw.sim.sim.state.subscriptions.values()].filter((x) => x.userId === userId);
        expect(held).toHaveLength(1);
        expect(Math.round(((held[0]?.expiresAt ?? 0) - (held[0]?.startsAt ?? 0)) / 86_400_000)).toBe(60);
      } finally {
        await pw.close();
      }
    },
  );

  it.each(["v0.1.150", "dec-2025"] as const)(
    "the bulk answer lost after the host assigned (%s): no user failed, nothing doubled",
    async (profile) => {
      const pw = await makeProxiedWorld(profile, new SecretLedger());
      try {
        const { hostAdapterFor } = await import("../../src/app/host-access.js");
        const { findHost } = await import("../../src/store/hosts.js");
        const host = await findHost(pw.ctx, "sim");
        // A group made by hand stands in for the import's (Dec 2025 builds refuse every import).
        const group = pw.sim.sim.state.liveGroups().find((g) => g.subscriptionType === "subscription");
        if (!group) throw new Error("the foreign fixture has no subscription group");
        const users = [1, 2].map(
          (i) => pw.sim.sim.state.addUser({ email: `v${i}@example.com`, password: "pw-123456" }).id,
        );
        const before = [...pw.sim.sim.state.subscriptions.values()].filter(
          (x) => x.groupId === group.id,
        ).length;
        pw.proxy.arm({ match: /^POST \/api\/v1\/admin\/subscriptions\/bulk-assign$/, mode: "drop" });
        const batchId = (await importBatchRow(pw.ctx, host.id)).id;
        const out = await assignManyAndRecord(
          pw.ctx,
          await hostAdapterFor(pw.ctx, host),
          users.map((userId) => ({
            hostId: host.id,
            providerId: "deepseek",
            batchId,
            groupId: group.id,
            userId,
            validityDays: 30,
            logicalKey: `g1:subscription:${userId}`,
            name: `user-${userId}`,
          })),
        );
        pw.proxy.disarm();
        expect(pw.proxy.hits.map((h) => h.mode)).toEqual(["drop"]);
        expect([...out.values()].map((o) => o.action)).toEqual(["created", "created"]);
        const after = [...pw.sim.sim.state.subscriptions.values()].filter((x) => x.groupId === group.id);
        expect(after).toHaveLength(before + 2);
      } finally {
        await pw.close();
      }
    },
  );
});

/** A batch row for grants made outside an import (the resources' batch must exist). */
async function importBatchRow(ctx: AppContext, hostId: string) {
  const id = `b_test_${Date.now().toString(36)}`;
  const now = new Date().toISOString();
  await exec(
    ctx,
    sql`INSERT INTO import_batches (id, host_id, provider_id, pack_version, mode, status, status_reason, options,
         key_count, summary, created_at, updated_at)
       VALUES (${id}, ${hostId}, 'deepseek', '1.0.0', 'strict', 'running', '', '{}', 0, '{}', ${now}, ${now})`,
  );
  return { id };
}
