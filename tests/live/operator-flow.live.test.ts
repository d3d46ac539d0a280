/**
 * The live acceptance suite: the whole operator flow against a REAL sub2api, named by environment
 * (RELAY_LIVE_BASE_URL, and the admin key in RELAY_LIVE_ADMIN_KEY or the file RELAY_LIVE_ADMIN_KEY_FILE).
 * Providers are the suite's own fake upstreams on loopback (tests/live/fake-upstream.ts), reached
 * by the host through a copy of the shipped pack whose base URLs name them. Every verdict on the
 * host is made by listing the host itself (tests/live/host-admin.ts), never by relay's records.
 *
 * `npm run test:live`; without a host the suite is skipped, and says so loudly.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runRelay } from "../helpers/cli.js";
import { FakeUpstreams, fakeProvidersFromPack } from "./fake-upstream.js";
import {
  admin,
  type HostSnapshot,
  type LiveHost,
  listAll,
  madeSince,
  snapshot,
  touched,
} from "./host-admin.js";
import { liveHostFromEnv, writeVerifiedCalls } from "./live-env.js";
import { SHIPPED_PACK, writeLivePack } from "./live-pack.js";

const host = liveHostFromEnv();
const LONG = 300_000;

describe.skipIf(!host)("live: the operator flow against a real sub2api", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  let user: { id: number; email: string; password: string };
  const batches: string[] = [];
  let version = "unknown";
  /** What relay decided per provider for this build (`relay host show`), after the pack install. */
  const support = new Map<string, { status: string; reason_code: string | null }>();
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "relay-live-"));
    env = {
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: Buffer.alloc(32, 9).toString("base64"),
      RELAY_ALLOW_LOOPBACK_UPSTREAMS: "1",
      RELAY_LOG_LEVEL: "warn",
      RELAY_HOST_CALL_TRACE: join(dir, "calls.jsonl"),
    };
    ups = await FakeUpstreams.start(fakeProvidersFromPack(SHIPPED_PACK));
    writeLivePack(join(dir, "pack"), ups);

    before = await snapshot(live);
    // An ordinary user of the host, made by hand as an operator would.
    const email = `live-${Date.now().toString(36)}@example.com`;
    const password = "live-user-password-1";
    const made = await admin<{ id: number }>(live, "POST", "/users", {
      email,
      password,
      username: email.split("@")[0],
    });
    user = { id: made.id, email, password };
  }, LONG);

  afterAll(async () => {
    // Which host calls this build answered with success during the flow (the "verified live"
    // record of docs/host-compatibility.md): test-artifacts/live/<version>.json.
    if (dir) writeVerifiedCalls(join(dir, "calls.jsonl"), version);
    await ups?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("registers the host and installs the pack", { timeout: LONG }, async () => {
    writeFileSync(join(dir, "admin.key"), live.adminKey, { mode: 0o600 });
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
      providers: { provider_id: string; status: string; reason_code: string | null }[];
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
        "--subscribe",
        `${user.id}:30`,
        "--yes",
      ),
    );
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = json(imp);
    batches.push(String(result.batch_id));
    expect(result).toMatchObject({ status: "succeeded", access_closure_status: "subscription_ready" });
    expect(ups.chatCalls("deepseek").length).toBeGreaterThan(0);
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

  it("the subscribed user calls DeepSeek through the gateway with the official openai client", {
    timeout: LONG,
  }, async (t) => {
    if (support.get("deepseek")?.status === "unsupported") return t.skip("no DeepSeek batch on this build");
    const login = await fetch(`${live.baseUrl}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    const session = (await login.json()) as { data: { access_token: string } };
    expect(login.status).toBe(200);
    const groups = await listAll<{ id: number; name: string; platform: string }>(live, "/groups");
    const subs = await listAll<{ user_id: number; group_id: number }>(live, "/subscriptions");
    const groupId = subs.find((s) => s.user_id === user.id)?.group_id;
    expect(groupId, JSON.stringify({ groups, subs })).toBeDefined();
    const keyRes = await fetch(`${live.baseUrl}/api/v1/keys`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${session.data.access_token}`,
        "Idempotency-Key": `live-${Date.now()}`,
      },
      body: JSON.stringify({ name: "live-user-key", group_id: groupId }),
    });
    const made = (await keyRes.json()) as { data: { key: string } };
    expect(keyRes.status, JSON.stringify(made)).toBe(200);
    const client = new OpenAI({ apiKey: made.data.key, baseURL: `${live.baseUrl}/v1`, maxRetries: 0 });
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
    const group = groups.find((g) => g.name.startsWith("relay-deepseek-"));
    expect(group).toBeDefined();
    await admin(live, "PUT", `/groups/${group?.id}`, { rate_multiplier: 3.5 });
    const drift = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(drift.code, drift.stdout).toBe(2);
    const findings = (json(drift).findings ?? []) as { kind: string; message: string }[];
    expect(JSON.stringify(findings)).toContain("rate_multiplier");
    expect(JSON.stringify(findings)).toContain("3.5");
    await admin(live, "PUT", `/groups/${group?.id}`, { rate_multiplier: group?.rate_multiplier });
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
    const served = ["deepseek", "kimi"].filter((p) => support.get(p)?.status !== "unsupported");
    expect(batches).toHaveLength(served.length);
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

/** A key of the shape the shipped pack expects for a provider (never a real key). */
function liveKey(provider: string): string {
  const alnum = (n: number) =>
    Array.from(
      { length: n },
      () => "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[Math.floor(Math.random() * 57)],
    ).join("");
  if (provider === "deepseek") return `sk-${alnum(32)}`;
  return `sk-${alnum(48)}`;
}
