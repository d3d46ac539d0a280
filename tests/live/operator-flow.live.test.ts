/**
 * The live acceptance suite: the whole operator flow against a REAL sub2api, named by environment
 * (RELAY_LIVE_BASE_URL, and the admin key in RELAY_LIVE_ADMIN_KEY or the file RELAY_LIVE_ADMIN_KEY_FILE).
 * Providers are the suite's own fake upstreams on loopback (tests/live/fake-upstream.ts), reached
 * by the host through a copy of the shipped pack whose base URLs name them. Every verdict on the
 * host is made by listing the host itself (tests/live/host-admin.ts), never by relay's records.
 *
 * `npm run test:live`; without a host the suite is skipped, and says so loudly.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runRelay } from "../helpers/cli.js";
import type { FakeUpstreams } from "./fake-upstream.js";
import {
  admin,
  type HostSnapshot,
  type LiveHost,
  listAll,
  madeSince,
  snapshot,
  touched,
} from "./host-admin.js";
import { type LiveUser, liveKey, makeUser, userClient } from "./host-user.js";
import { liveHostFromEnv } from "./live-env.js";
import { closeStand, openStand } from "./stand.js";

const host = liveHostFromEnv();
const LONG = 300_000;

describe.skipIf(!host)("live: the operator flow against a real sub2api", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  let user: LiveUser;
  /** A second user subscribed by the same import: two users make relay use the bulk assign. */
  let user2: LiveUser;
  const batches: string[] = [];
  let version = "unknown";
  /** What relay decided per provider for this build (`relay host show`), after the pack install. */
  const support = new Map<
    string,
    { status: string; reason_code: string | null; mode?: string; platform?: string }
  >();
  /**
   * On a build that cannot serve a provider, relay must refuse its import before any host write;
   * the steps that need that provider's batch are then skipped, and say why.
   */
  const refusedBeforeAnyWrite = async (provider: string, args: string[]): Promise<boolean> => {
    if (support.get(provider)?.status !== "unsupported") return false;
    const was = await snapshot(live);
    const r = await relay(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("PROVIDER_UNSUPPORTED_ON_HOST");
    expect(madeSince(was, await snapshot(live))).toEqual({});
    return true;
  };

  const relay = async (args: string[], input?: string): Promise<CliResult> =>
    runRelay(["--json", ...args], { env, input, timeoutMs: LONG });
  const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;
  /** `relay provider VERB PROVIDER --host live --keys-file KEYS --mode MODE …`, the flow's one shape. */
  const keysArgs = (
    verb: "preview" | "import",
    provider: string,
    keys: string,
    mode: string,
    ...rest: string[]
  ) => ["provider", verb, provider, "--host", "live", "--keys-file", keys, "--mode", mode, ...rest];
  const keyFile = (name: string, keys: string[]) => {
    const file = join(dir, name);
    writeFileSync(file, `${keys.join("\n")}\n`, { mode: 0o600 });
    return file;
  };

  const subscribeBoth = () => ["--subscribe", `${user.id}:30`, "--subscribe", `${user2.id}:30`];
  /** The users' active subscriptions on the host, read from the host. */
  const subscriptionsOf = async (ids: number[]) =>
    (
      await listAll<{ id: number; user_id: number; group_id: number; status: string; expires_at: string }>(
        live,
        "/subscriptions",
      )
    ).filter((x) => ids.includes(x.user_id) && x.status === "active");

  beforeAll(async () => {
    ({ dir, env, ups } = await openStand(live, "flow", 9));

    before = await snapshot(live);
    // Ordinary users of the host, made by hand as an operator would.
    user = await makeUser(live, "flow");
    user2 = await makeUser(live, "flow2");
  }, LONG);

  afterAll(async () => {
    // Which host calls this build answered with success during the flow (the "verified live"
    // record of docs/host-compatibility.md): test-artifacts/live/<version>.json.
    await closeStand({ dir, ups }, version);
  });

  it("registers the host and installs the pack", { timeout: LONG }, async () => {
    const add = await relay([
      "host",
      "add",
      "--name",
      "live",
      "--base-url",
      live.baseUrl,
      "--admin-key-file",
      join(dir, "admin.key"),
    ]);
    expect(add.code, add.stderr).toBe(0);
    const shown = json(add);
    expect(shown.status).toBe("supported");
    const install = await relay(["pack", "install", join(dir, "pack")]);
    expect(install.code, install.stderr).toBe(0);
    const show = json(await relay(["host", "show", "live"])) as {
      providers: { provider_id: string; status: string; reason_code: string | null; mode?: string }[];
    };
    for (const p of show.providers) support.set(p.provider_id, p);
    version = String((show as { version?: unknown }).version ?? "unknown");
    expect(support.size).toBeGreaterThan(0);
  });

  it("previews, then imports DeepSeek strictly with a subscription, and access is proven", {
    timeout: LONG,
  }, async (t) => {
    const keys = keyFile("deepseek.keys", [liveKey("deepseek"), liveKey("deepseek")]);
    const importArgs = keysArgs("import", "deepseek", keys, "strict", "--yes");
    if (await refusedBeforeAnyWrite("deepseek", importArgs))
      return t.skip("this build cannot serve DeepSeek: refused before any write");
    const preview = await relay(keysArgs("preview", "deepseek", keys, "strict"));
    expect(preview.code, preview.stderr).toBe(0);
    const imp = await relay(
      keysArgs(
        "import",
        "deepseek",
        keys,
        "strict",
        "--access-mode",
        "subscription",
        // Two users with the same validity: relay assigns them in one bulk-assign call.
        ...subscribeBoth(),
        "--yes",
      ),
    );
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = json(imp);
    batches.push(String(result.batch_id));
    expect(result).toMatchObject({ status: "succeeded", access_closure_status: "subscription_ready" });
    expect(ups.chatCalls("deepseek").length).toBeGreaterThan(0);
    // Judged on the host: each user holds one active subscription to the same group.
    const held = await subscriptionsOf([user.id, user2.id]);
    expect(held, JSON.stringify(held)).toHaveLength(2);
    expect(new Set(held.map((x) => x.group_id)).size).toBe(1);
    // The group is on the platform relay chose for this build: 0.1.178 tests CN-platform accounts
    // against the Claude endpoint, so DeepSeek goes through the OpenAI fallback there (D2).
    const group = (await listAll<{ id: number; platform: string }>(live, "/groups")).find(
      (g) => g.id === held[0]?.group_id,
    );
    const chosen = support.get("deepseek");
    expect(group?.platform).toBe(chosen?.platform);
    if (version === "0.1.178") expect(chosen).toMatchObject({ mode: "fallback", platform: "openai" });
  });

  it("a second import over the same users adds its account and leaves their subscriptions as they are", {
    timeout: LONG,
  }, async (t) => {
    if (support.get("deepseek")?.status === "unsupported") return t.skip("no DeepSeek batch on this build");
    const was = await subscriptionsOf([user.id, user2.id]);
    const keys = keyFile("deepseek-2.keys", [liveKey("deepseek")]);
    const imp = await relay(
      keysArgs(
        "import",
        "deepseek",
        keys,
        "strict",
        "--access-mode",
        "subscription",
        ...subscribeBoth(),
        "--yes",
      ),
    );
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = json(imp);
    batches.push(String(result.batch_id));
    expect(result.status).toBe("succeeded");
    // Both users already hold the group: relay plans no assign for them.
    const lines = result.subscriptions as { user_id: number; status: string }[];
    expect(
      lines.map((x) => x.status),
      JSON.stringify(lines),
    ).toEqual(["already_subscribed", "already_subscribed"]);
    const now = await subscriptionsOf([user.id, user2.id]);
    expect(now.map((x) => x.id).sort()).toEqual(was.map((x) => x.id).sort());
    expect(now.map((x) => x.expires_at).sort()).toEqual(was.map((x) => x.expires_at).sort());
  });

  it("a partial import keeps the working keys and names the revoked one", { timeout: LONG }, async (t) => {
    const good = [liveKey("kimi"), liveKey("kimi")];
    const bad = liveKey("kimi");
    ups.revoked.add(bad);
    const keys = keyFile("kimi.keys", [...good, bad]);
    const importArgs = keysArgs("import", "kimi", keys, "partial", "--yes");
    if (await refusedBeforeAnyWrite("kimi", importArgs))
      return t.skip("this build cannot serve Kimi: refused before any write");
    const imp = await relay(importArgs);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(3);
    const result = json(imp);
    batches.push(String(result.batch_id));
    expect(result.status).toBe("partially_succeeded");
    expect(JSON.stringify(result)).not.toContain(bad);
    const accounts = await listAll<{ name: string; credentials?: { base_url?: string } }>(live, "/accounts");
    const kimiUpstream = ups.baseUrl("kimi");
    expect(accounts.filter((a) => a.credentials?.base_url === kimiUpstream)).toHaveLength(2);
  });

  it("heal re-binds an account whose group binding was removed by hand, one (update) and two (bulk-update)", {
    timeout: LONG,
  }, async (t) => {
    if (support.get("kimi")?.status === "unsupported") return t.skip("no Kimi batch on this build");
    type Acc = { id: number; group_ids?: number[] | null; credentials?: { base_url?: string } };
    const kimi = async () =>
      (await listAll<Acc>(live, "/accounts")).filter((a) => a.credentials?.base_url === ups.baseUrl("kimi"));
    const bound = await kimi();
    expect(bound).toHaveLength(2);
    const groupId = bound[0]?.group_ids?.[0] as number;
    expect(groupId).toBeDefined();
    const unbind = async (ids: number[]) => {
      for (const id of ids) await admin(live, "PUT", `/accounts/${id}`, { group_ids: [] });
      const now = await kimi();
      expect(now.filter((a) => ids.includes(a.id)).every((a) => !(a.group_ids ?? []).includes(groupId))).toBe(
        true,
      );
    };
    for (const ids of [[bound[0]?.id as number], bound.map((a) => a.id)]) {
      await unbind(ids);
      const rec = await relay(["provider", "reconcile", "kimi", "--host", "live"]);
      expect(rec.code, rec.stdout).toBe(2);
      expect(rec.stdout).toContain("group_ids");
      const heal = await relay(["provider", "reconcile", "kimi", "--host", "live", "--heal"]);
      expect([0, 2], `${heal.stdout}\n${heal.stderr}`).toContain(heal.code);
      // Judged on the host: every Kimi account is bound to its group again.
      const after = await kimi();
      expect(
        after.every((a) => (a.group_ids ?? []).includes(groupId)),
        JSON.stringify(after),
      ).toBe(true);
    }
  });

  it("the subscribed user calls DeepSeek through the gateway with the official openai client", {
    timeout: LONG,
  }, async (t) => {
    if (support.get("deepseek")?.status === "unsupported") return t.skip("no DeepSeek batch on this build");
    const groups = await listAll<{ id: number; name: string; platform: string }>(live, "/groups");
    const subs = await listAll<{ user_id: number; group_id: number }>(live, "/subscriptions");
    const groupId = subs.find((s) => s.user_id === user.id)?.group_id;
    expect(groupId, JSON.stringify({ groups, subs })).toBeDefined();
    const client = await userClient(live, user, groupId as number);
    const answer = await client.chat.completions.create({
      model: "deepseek-v4-flash",
      messages: [{ role: "user", content: "Say hello." }],
    });
    expect(answer.choices[0]?.message.content).toContain("live fake upstream");
  });

  it("a clean import reconciles clean; a rate multiplier changed by hand is drift with both values", {
    timeout: LONG,
  }, async (t) => {
    if (support.get("deepseek")?.status === "unsupported") return t.skip("no DeepSeek batch on this build");
    // Every field relay set, compared with what this real build answers: no false drift.
    const clean = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(clean.code, clean.stdout).toBe(0);
    const groups = await listAll<{ id: number; name: string; rate_multiplier: number }>(live, "/groups");
    // This run's group: a host that met earlier runs holds other relay-deepseek-… groups too.
    const group = groups.find(
      (g) => !before.groups.some((b) => b.id === g.id) && g.name.startsWith("relay-deepseek-"),
    );
    expect(group, JSON.stringify(groups)).toBeDefined();
    await admin(live, "PUT", `/groups/${group?.id}`, { rate_multiplier: 3.5 });
    try {
      const drift = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
      expect(drift.code, drift.stdout).toBe(2);
      const findings = (json(drift).findings ?? []) as { kind: string; message: string }[];
      expect(JSON.stringify(findings)).toContain("rate_multiplier");
      expect(JSON.stringify(findings)).toContain("3.5");
    } finally {
      await admin(live, "PUT", `/groups/${group?.id}`, { rate_multiplier: group?.rate_multiplier });
    }
  });

  it("reports an account deleted by hand; heal re-creates a channel deleted by hand", {
    timeout: LONG,
  }, async (t) => {
    if (support.get("deepseek")?.status === "unsupported") return t.skip("no DeepSeek batch on this build");
    const accounts = await listAll<{ id: number; name: string; credentials?: { base_url?: string } }>(
      live,
      "/accounts",
    );
    const victim = accounts.find((a) => a.credentials?.base_url === ups.baseUrl("deepseek"));
    expect(victim).toBeDefined();
    await admin(live, "DELETE", `/accounts/${victim?.id}`);
    const rec = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(rec.code, rec.stderr).toBe(2);
    expect(rec.stdout).toContain(String(victim?.id));
    const channels = await listAll<{ id: number; name: string }>(live, "/channels");
    // The DeepSeek batch's channel (relay names it relay-<provider>-<install>-g<generation>).
    const ours = channels.filter(
      (c) => !before.channels.some((b) => b.id === c.id) && c.name.startsWith("relay-deepseek-"),
    );
    expect(ours, JSON.stringify(channels)).toHaveLength(1);
    {
      await admin(live, "DELETE", `/channels/${ours[0]?.id}`);
      const heal = await relay(["provider", "reconcile", "deepseek", "--host", "live", "--heal"]);
      expect([0, 2]).toContain(heal.code);
      const after = await listAll<{ id: number; name: string }>(live, "/channels");
      expect(after.length, `${heal.stdout}\n${heal.stderr}`).toBe(channels.length);
    }
  });

  it("rolls every batch back, and the host holds nothing relay made and everything it did not", {
    timeout: LONG,
  }, async () => {
    // One batch per provider this build serves; a build that serves neither is judged untouched.
    // DeepSeek imports twice (the second over the same users), Kimi once.
    const served = (p: string) => (support.get(p)?.status !== "unsupported" ? 1 : 0);
    expect(batches).toHaveLength(2 * served("deepseek") + served("kimi"));
    for (const id of [...batches].reverse()) {
      const rb = await relay(["batch", "rollback", id, "--yes"]);
      expect(rb.code, `${rb.stdout}\n${rb.stderr}`).toBe(0);
    }
    const after = await snapshot(live);
    const left = madeSince(before, after);
    // The test's own user subscription was made by relay's import: it must be revoked too.
    expect(left).toEqual({});
    expect(touched(before, after)).toEqual([]);
  });
});

if (!host) {
  describe("live: no host given", () => {
    it.skip("set RELAY_LIVE_BASE_URL and RELAY_LIVE_ADMIN_KEY(_FILE) to run the live suite", () => {});
  });
}
