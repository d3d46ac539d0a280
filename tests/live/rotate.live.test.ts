/**
 * Live: `relay provider rotate` against the real host.
 *
 * A strict DeepSeek import of two keys with a subscribed user; one key is then revoked at the fake
 * upstream (it answers 401). `relay provider reconcile` re-tests the accounts and reports that one.
 * `relay provider rotate deepseek --accounts revoked --old-keys-file OLD --yes` gives it a new key
 * in place, judged from the host: the same account id, the same group bindings, status active,
 * schedulable, the host's own account test passes, and the user's gateway call reaches the
 * upstream with the NEW key. A second rotation with a key the upstream refuses is stopped by the
 * pre-check (the host's model preview meets the 401 before any account is touched: exit 4,
 * nothing written); one with a key whose chat completions fail (402) passes the pre-check, fails
 * the account test, and the old key is put back. Rollback of the import batch leaves nothing relay
 * made live and nothing else touched.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTestStream } from "../../src/host/sub2api/account-test.js";
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
const SMOKE = "deepseek-v4-flash";
/** Host operations that change something (the model preview builds the account in memory only). */
const WRITES =
  /^accounts\.(create|batch_create|update|bulk_update|schedulable|test|models_sync|batch_delete)$|^(groups|channels|plans|subscriptions|users|keys)\.(create|update|assign|bulk_assign|extend|revoke|delete)$/;

interface LiveAccount {
  id: number;
  name: string;
  status?: string;
  schedulable?: boolean;
  group_ids?: number[] | null;
  credentials?: { base_url?: string };
  error_message?: string | null;
}

/** The account as the host shows it, reduced to what a rotation must keep or restore. */
const shape = (a: LiveAccount) => ({
  id: a.id,
  name: a.name,
  groups: [...(a.group_ids ?? [])].sort((x, y) => x - y),
  base_url: a.credentials?.base_url,
});

/** The host's own account test (`POST /admin/accounts/:id/test`, an SSE stream). */
async function hostTest(live: LiveHost, id: number): Promise<{ success: boolean; error?: string }> {
  const res = await fetch(`${live.baseUrl}/api/v1/admin/accounts/${id}/test`, {
    method: "POST",
    headers: { "x-api-key": live.adminKey, "content-type": "application/json" },
    body: JSON.stringify({ model_id: SMOKE }),
  });
  return parseTestStream(await res.text(), 0);
}

describe.skipIf(!host)("live: a revoked key rotated in place", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  let user: LiveUser;
  let served = false;
  let version = "unknown";
  let batch: string | undefined;
  let accounts: LiveAccount[] = [];
  let target: LiveAccount | undefined;
  let current: string | undefined; // the target's key after the first rotation
  let bystander: number | undefined; // the other account, whose key the host may still be failing
  const keys = [liveKey("deepseek"), liveKey("deepseek")];

  const relay = (args: string[]): Promise<CliResult> =>
    runRelay(["--json", ...args], { env, timeoutMs: LONG });
  const keyFile = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
    return path;
  };
  const rotate = (newKeys: string, oldKeys: string, accounts: string) =>
    relay([
      ...["provider", "rotate", "deepseek", "--host", "live", "--keys-file", newKeys],
      ...["--old-keys-file", oldKeys, "--accounts", accounts, "--yes"],
    ]);
  /** The account writes relay has sent the host so far, from its call trace (operation names only). */
  const hostWrites = () =>
    existsSync(join(dir, "calls.jsonl"))
      ? readFileSync(join(dir, "calls.jsonl"), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { operation: string }).operation)
          .filter((op) => WRITES.test(op))
      : [];
  const mine = async () =>
    (await listAll<LiveAccount>(live, "/accounts")).filter(
      (a) => a.credentials?.base_url === ups.baseUrl("deepseek"),
    );

  beforeAll(async () => {
    ({ dir, env, ups } = await openStand(live, "rotate", 19));
    before = await snapshot(live);
    user = await makeUser(live, "rotate");
  }, LONG);

  afterAll(async () => {
    await closeStand({ dir, ups }, `${version}-rotate`);
  });

  it("imports two DeepSeek keys with a subscription, and they reconcile clean", {
    timeout: LONG,
  }, async (t) => {
    const add = await relay([
      ...["host", "add", "--name", "live", "--base-url", live.baseUrl],
      ...["--admin-key-file", join(dir, "admin.key")],
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
    const imp = await relay([
      ...["provider", "import", "deepseek", "--host", "live", "--keys-file", keyFile("old.keys", keys)],
      ...["--mode", "strict", "--access-mode", "subscription", "--subscribe", `${user.id}:30`, "--yes"],
    ]);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = JSON.parse(imp.stdout) as { batch_id: string; status: string };
    batch = result.batch_id;
    expect(result.status).toBe("succeeded");
    accounts = await mine();
    expect(accounts, JSON.stringify(accounts)).toHaveLength(2);
    const clean = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it("one key is revoked upstream; reconcile reports its account; rotate gives it a new key in place", {
    timeout: LONG,
  }, async (t) => {
    if (!served || accounts.length !== 2) return t.skip("no DeepSeek batch on this build");
    const [revokedKey, keptKey] = keys as [string, string];
    ups.revoked.add(revokedKey);
    const rec = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(rec.code, rec.stdout).toBe(2);
    const findings = (JSON.parse(rec.stdout).findings ?? []) as {
      kind: string;
      host_resource_id: number | null;
      message: string;
    }[];
    const failing = findings.filter((f) => f.kind === "account_failing");
    expect(failing, JSON.stringify(findings)).toHaveLength(1);
    const id = failing[0]?.host_resource_id as number;
    target = accounts.find((a) => a.id === id);
    expect(target, JSON.stringify(findings)).toBeDefined();
    const other = accounts.find((a) => a.id !== id) as LiveAccount;
    const hostSays = await admin<LiveAccount>(live, "GET", `/accounts/${id}`);
    process.stderr.write(
      `live rotate: after reconcile the host shows #${id} status ${hostSays.status}, schedulable ${hostSays.schedulable} (${hostSays.error_message ?? ""}); relay says ${failing[0]?.message}\n`,
    );
    const otherBefore = await admin<LiveAccount>(live, "GET", `/accounts/${other.id}`);

    const fresh = liveKey("deepseek");
    current = fresh;
    const run = await rotate(keyFile("new.keys", [fresh]), keyFile("revoked.keys", [revokedKey]), "revoked");
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ status: "succeeded", summary: { rotated: 1, restored: 0, failed: 0 } });
    expect(result.accounts.map((a: { account_id: number }) => a.account_id)).toEqual([id]);
    for (const text of [run.stdout, run.stderr, rec.stdout])
      for (const k of [fresh, revokedKey, keptKey]) expect(text).not.toContain(k);

    // Judged on the host: the same account, the same bindings, active and schedulable; its test passes.
    const now = await admin<LiveAccount>(live, "GET", `/accounts/${id}`);
    expect(shape(now)).toEqual(shape(target as LiveAccount));
    expect(now).toMatchObject({ status: "active", schedulable: true });
    const seen = ups.chatCalls("deepseek").length;
    expect(await hostTest(live, id)).toMatchObject({ success: true });
    expect(
      ups
        .chatCalls("deepseek")
        .slice(seen)
        .map((r) => r.keyTail),
    ).toContain(fresh.slice(-4));
    // The other account was not touched.
    expect(shape(await admin<LiveAccount>(live, "GET", `/accounts/${other.id}`))).toEqual(shape(otherBefore));

    // The user's gateway call is served by the rotated account. The host keeps a user on the
    // account it chose before (the other one), so that key is now refused upstream too: whichever
    // account the host tries first, only the rotated one can answer, and the upstream must see the
    // NEW key. The host's gateway schedules from a snapshot its outbox worker refreshes once a
    // second (`SchedulerSnapshotService.Start`, `service/scheduler_snapshot_service.go:181-188`;
    // `gateway.scheduling.outbox_poll_interval_seconds` default 1, `config/config.go:2466`@2bc139ab5,
    // `:2470`@67380eafd): the admin API shows the account active at once, the gateway picks it up
    // at the snapshot's next refresh — the call is repeated once a poll interval until it does.
    const subs = await listAll<{ user_id: number; group_id: number }>(live, "/subscriptions");
    const groupId = subs.find((s) => s.user_id === user.id)?.group_id as number;
    const client = await userClient(live, user, groupId);
    ups.revoked.add(keptKey);
    bystander = other.id;
    const from = ups.chatCalls("deepseek").length;
    const refusals: string[] = [];
    let content: string | null | undefined;
    for (let attempt = 0; attempt < 10 && content === undefined; attempt++) {
      content = await client.chat.completions
        .create({ model: SMOKE, messages: [{ role: "user", content: "Say hello." }] })
        .then(
          (a) => a.choices[0]?.message.content,
          async (e: unknown) => {
            refusals.push(String(e));
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            return undefined;
          },
        );
    }
    expect(content, refusals.join("\n")).toMatch(/live fake upstream/);
    const tails = ups
      .chatCalls("deepseek")
      .slice(from)
      .map((r) => r.keyTail);
    process.stderr.write(
      `live rotate: the user's call was served after ${refusals.length} refusal(s) (${refusals.join("; ")}); upstream saw ${tails.join(", ")} (new key ${fresh.slice(-4)})\n`,
    );
    expect(tails.at(-1)).toBe(fresh.slice(-4));
    expect(tails).not.toContain(revokedKey.slice(-4));
  });

  it("a new key the upstream refuses is stopped by the pre-check: exit 4, nothing written", {
    timeout: LONG,
  }, async (t) => {
    if (!target || !current) return t.skip("no rotated account on this build");
    const id = target.id;
    const was = await snapshot(live);
    const writesBefore = hostWrites();
    const refused = liveKey("deepseek");
    ups.revoked.add(refused);
    const run = await rotate(keyFile("refused.keys", [refused]), keyFile("current.keys", [current]), `${id}`);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(4);
    expect(`${run.stdout}\n${run.stderr}`).toMatch(/ROTATION_BLOCKED|ready/);
    expect(`${run.stdout}\n${run.stderr}`).not.toContain(refused);
    // Nothing written: relay sent the host no write (its call trace), and the host lists the same.
    // The other account is left out of the comparison: the host itself may still be recording the
    // 401 its key met in the previous step.
    expect(hostWrites()).toEqual(writesBefore);
    const without = (s: HostSnapshot) => ({ ...s, accounts: s.accounts.filter((a) => a.id !== bystander) });
    const after = await snapshot(live);
    expect(madeSince(without(was), without(after))).toEqual({});
    expect(touched(without(was), without(after))).toEqual([]);
    expect(await hostTest(live, id)).toMatchObject({ success: true });
  });

  it("a new key that passes the pre-check but fails the account test: the old key is put back", {
    timeout: LONG,
  }, async (t) => {
    if (!target || !current) return t.skip("no rotated account on this build");
    const id = target.id;
    const dead = liveKey("deepseek");
    ups.depleted.add(dead); // its model list answers, its chat completions answer 402
    const run = await rotate(keyFile("dead.keys", [dead]), keyFile("current.keys", [current]), `${id}`);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(3);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ summary: { rotated: 0, restored: 1, failed: 0 } });
    expect(`${run.stdout}\n${run.stderr}`).not.toContain(dead);
    const now = await admin<LiveAccount>(live, "GET", `/accounts/${id}`);
    process.stderr.write(
      `live rotate: after a failed new key #${id} is ${now.status}, schedulable ${now.schedulable}; relay says ${result.accounts[0]?.detail}\n`,
    );
    expect(shape(now)).toEqual(shape(target));
    // The account is on its working key again: the host's test reaches the upstream with it.
    const seen = ups.chatCalls("deepseek").length;
    expect(await hostTest(live, id)).toMatchObject({ success: true });
    expect(
      ups
        .chatCalls("deepseek")
        .slice(seen)
        .map((r) => r.keyTail),
    ).toEqual([current.slice(-4)]);
  });

  it("rolls the import back; the host holds nothing relay made and everything it did not", {
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
