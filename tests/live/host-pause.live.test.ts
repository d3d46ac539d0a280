/**
 * Live: an account the real host paused by itself is reported unhealthy by reconcile.
 *
 * After a clean DeepSeek import, the key's upstream runs out of money: the fake upstream answers
 * its chat completions 402 "Insufficient Balance" (DeepSeek's documented 402). A subscribed user's
 * gateway call reaches it, and the host's own error handling pauses the account without anyone
 * touching it through the admin API: `RateLimitService.HandleUpstreamError` case 402
 * (`service/ratelimit_service.go`@2bc139ab5) sets `temp_unschedulable_until` for a CN-platform
 * account (`handleCNProviderInsufficientBalance`, `service/ratelimit_cn_providers.go:54-79`) and
 * `status=error` for an OpenAI-platform (fallback) one (`handleAuthError`). The pause is read back
 * by listing the host; then `relay provider reconcile` must report that account, not "ok".
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

interface LiveAccount {
  id: number;
  status?: string;
  schedulable?: boolean;
  credentials?: { base_url?: string };
  temp_unschedulable_until?: string | null;
  temp_unschedulable_reason?: string | null;
  rate_limit_reset_at?: string | null;
  overload_until?: string | null;
  error_message?: string | null;
}

/** How the host itself says it paused the account now, or undefined when it serves it. */
function hostPause(a: LiveAccount, nowMs: number): string | undefined {
  const ahead = (t: string | null | undefined) => typeof t === "string" && Date.parse(t) > nowMs;
  if (ahead(a.temp_unschedulable_until))
    return `temp_unschedulable_until ${a.temp_unschedulable_until} (${a.temp_unschedulable_reason ?? ""})`;
  if (ahead(a.rate_limit_reset_at)) return `rate_limit_reset_at ${a.rate_limit_reset_at}`;
  if (ahead(a.overload_until)) return `overload_until ${a.overload_until}`;
  if (a.status === "error") return `status error (${a.error_message ?? ""})`;
  if (a.schedulable === false) return "schedulable false";
  return undefined;
}

describe.skipIf(!host)("live: an account the host paused by itself is reported unhealthy", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  let user: LiveUser;
  let served = false;
  let version = "unknown";
  let batch: string | undefined;
  let account: LiveAccount | undefined;
  const key = liveKey("deepseek");

  const relay = (args: string[]): Promise<CliResult> =>
    runRelay(["--json", ...args], { env, timeoutMs: LONG });

  beforeAll(async () => {
    ({ dir, env, ups } = await openStand(live, "pause", 13));
    before = await snapshot(live);
    user = await makeUser(live, "pause");
  }, LONG);

  afterAll(async () => {
    await closeStand({ dir, ups }, `${version}-pause`);
  });

  it("imports one DeepSeek key with a subscription, and it reconciles clean", {
    timeout: LONG,
  }, async (t) => {
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
    expect((await relay(["pack", "install", join(dir, "pack")])).code).toBe(0);
    const show = JSON.parse((await relay(["host", "show", "live"])).stdout) as {
      version?: string;
      providers: { provider_id: string; status: string }[];
    };
    version = String(show.version ?? "unknown");
    served = show.providers.find((p) => p.provider_id === "deepseek")?.status !== "unsupported";
    if (!served) return t.skip("this build cannot serve DeepSeek (the operator flow checks the refusal)");
    const keys = join(dir, "deepseek.keys");
    writeFileSync(keys, `${key}\n`, { mode: 0o600 });
    const imp = await relay([
      ...["provider", "import", "deepseek", "--host", "live", "--keys-file", keys, "--mode", "strict"],
      ...["--access-mode", "subscription", "--subscribe", `${user.id}:30`, "--yes"],
    ]);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = JSON.parse(imp.stdout) as { batch_id: string; status: string };
    batch = result.batch_id;
    expect(result.status).toBe("succeeded");
    const accounts = await listAll<LiveAccount>(live, "/accounts");
    account = accounts.find((a) => a.credentials?.base_url === ups.baseUrl("deepseek"));
    expect(account, JSON.stringify(accounts)).toBeDefined();
    expect(hostPause(account as LiveAccount, Date.now())).toBeUndefined();
    const clean = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it("the upstream answers 402; the host pauses the account itself; reconcile reports it", {
    timeout: LONG,
  }, async (t) => {
    if (!served || !account) return t.skip("no DeepSeek batch on this build");
    const id = account.id;
    const subs = await listAll<{ user_id: number; group_id: number }>(live, "/subscriptions");
    const groupId = subs.find((s) => s.user_id === user.id)?.group_id as number;
    expect(groupId).toBeDefined();
    const client = await userClient(live, user, groupId);
    ups.depleted.add(key);
    const calls = ups.chatCalls("deepseek").length;
    const answer = await client.chat.completions
      .create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Say hello." }] })
      .then(
        () => "answered",
        (e: unknown) => `refused: ${String(e)}`,
      );
    // The host reached the upstream with this key, and the user got no answer from it.
    expect(ups.chatCalls("deepseek").length).toBeGreaterThan(calls);
    expect(answer).toMatch(/^refused/);
    // Judged on the host: its own error handling paused the account (nobody touched it).
    const now = await admin<LiveAccount>(live, "GET", `/accounts/${id}`);
    const pause = hostPause(now, Date.now());
    expect(pause, JSON.stringify(now)).toBeDefined();
    const rec = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(rec.code, rec.stdout).toBe(2);
    const findings = (JSON.parse(rec.stdout).findings ?? []) as {
      kind: string;
      host_resource_id: number | null;
      field?: string;
      message: string;
    }[];
    const mine = findings.filter((f) => f.host_resource_id === id);
    expect(mine, JSON.stringify(findings)).not.toHaveLength(0);
    expect(
      mine.some((f) => f.kind === "account_failing" || (f.kind === "changed" && f.field === "status")),
      JSON.stringify(mine),
    ).toBe(true);
    process.stderr.write(
      `live pause: host says ${pause}; relay says ${mine.map((f) => f.message).join("; ")}\n`,
    );
  });

  it("rolls the batch back; the host holds nothing relay made and everything it did not", {
    timeout: LONG,
  }, async () => {
    if (batch) {
      const rb = await relay(["batch", "rollback", batch, "--yes"]);
      expect(rb.code, `${rb.stdout}\n${rb.stderr}`).toBe(0);
    }
    const after = await snapshot(live);
    expect(madeSince(before, after)).toEqual({});
    expect(touched(before, after)).toEqual([]);
  });
});
