/**
 * Live: `relay host remove-probe-user` against the real host.
 *
 * A DeepSeek import with an access mode proves access through relay's own probe user (made by
 * relay through the admin API, with a subscription relay assigns and a key of its own). The
 * removal is judged from the host: the dry run changes nothing; `--yes` revokes the probe user's
 * subscription and deletes the user (`DELETE /api/v1/admin/users/:id`: a soft delete, and from
 * 0.1.134 its API keys with it, `service/admin_user.go:351-440`, `repository/api_key_repo.go:344`
 * @2bc139ab5 — its subscriptions stay, which is why relay revokes them first), so the host no
 * longer lists it (GET 404) and its old key is refused at the gateway (401); the users the test
 * made and their subscriptions are as they were. A second run has nothing to remove; the next
 * proof makes a new probe user under the next address (`-g2`); rollback and a last removal leave
 * nothing relay made live.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runRelay } from "../helpers/cli.js";
import type { FakeUpstreams } from "./fake-upstream.js";
import {
  admin,
  HostAnswerError,
  type HostSnapshot,
  type LiveHost,
  listAll,
  madeSince,
  snapshot,
  touched,
} from "./host-admin.js";
import { type LiveUser, liveKey, makeUser } from "./host-user.js";
import { liveHostFromEnv } from "./live-env.js";
import { closeStand, openStand } from "./stand.js";

const host = liveHostFromEnv();
const LONG = 300_000;

interface HostUserRow {
  id: number;
  email: string;
  status?: string;
}
interface HostSub {
  id: number;
  user_id: number;
  group_id: number;
  status?: string;
}
interface ProbeUser {
  email: string;
  user_id: number;
  created_by_relay: boolean;
}

/** The host's users and subscriptions as it lists them now (what a removal may or may not touch). */
async function people(live: LiveHost) {
  const users = (await listAll<HostUserRow>(live, "/users")).map((u) => ({
    id: u.id,
    email: u.email,
    status: u.status,
  }));
  const subscriptions = (await listAll<HostSub>(live, "/subscriptions")).map((s) => ({
    id: s.id,
    user_id: s.user_id,
    group_id: s.group_id,
    status: s.status,
  }));
  return { users, subscriptions };
}

/** Everything in `people` that is not the given user's. */
function othersOf(state: Awaited<ReturnType<typeof people>>, userId: number) {
  return {
    users: state.users.filter((u) => u.id !== userId),
    subscriptions: state.subscriptions.filter((s) => s.user_id !== userId),
  };
}

/** The user as the host answers GET /users/:id, or undefined on its 404. */
async function hostUser(live: LiveHost, id: number): Promise<HostUserRow | undefined> {
  try {
    return await admin<HostUserRow>(live, "GET", `/users/${id}`);
  } catch (e) {
    if (e instanceof HostAnswerError && e.status === 404) return undefined;
    throw e;
  }
}

/** A user's API keys as the admin API lists them (the full key is in the listing). */
const userKeys = (live: LiveHost, id: number) =>
  listAll<{ id: number; key: string; name: string; status?: string }>(live, `/users/${id}/api-keys`);

/** The HTTP status of one chat completion through the host's gateway with this key. */
async function gatewayStatus(live: LiveHost, key: string): Promise<number> {
  const res = await fetch(`${live.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: "deepseek-v4-flash",
      messages: [{ role: "user", content: "Say hello." }],
      max_tokens: 16,
    }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe.skipIf(!host)("live: relay removes its own probe user, and only that", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  let alice: LiveUser;
  let bob: LiveUser;
  let served = false;
  let version = "unknown";
  let batch: string | undefined;
  let probe: ProbeUser | undefined;
  let probeKey: string | undefined;
  let probeSub: HostSub | undefined;
  let nextEmail: string | undefined;

  const relay = (args: string[]): Promise<CliResult> =>
    runRelay(["--json", ...args], { env, timeoutMs: LONG });
  const showHost = async () =>
    JSON.parse((await relay(["host", "show", "live"])).stdout) as {
      id: string;
      version?: string;
      probe_user: ProbeUser | null;
      providers: { provider_id: string; status: string }[];
    };

  beforeAll(async () => {
    ({ dir, env, ups } = await openStand(live, "probe-user", 17));
    before = await snapshot(live);
    alice = await makeUser(live, "probe-a");
    bob = await makeUser(live, "probe-b");
  }, LONG);

  afterAll(async () => {
    await closeStand({ dir, ups }, `${version}-probe-user`);
  });

  it("a DeepSeek import with an access mode proves access through a probe user relay makes", {
    timeout: LONG,
  }, async (t) => {
    const add = await relay([
      ...["host", "add", "--name", "live", "--base-url", live.baseUrl],
      ...["--admin-key-file", join(dir, "admin.key")],
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect((await relay(["pack", "install", join(dir, "pack")])).code).toBe(0);
    const show = await showHost();
    version = String(show.version ?? "unknown");
    served = show.providers.find((p) => p.provider_id === "deepseek")?.status !== "unsupported";
    if (!served) return t.skip("this build cannot serve DeepSeek (the operator flow checks the refusal)");
    expect(show.probe_user).toBeNull();
    const keys = join(dir, "deepseek.keys");
    writeFileSync(keys, `${liveKey("deepseek")}\n`, { mode: 0o600 });
    const imp = await relay([
      ...["provider", "import", "deepseek", "--host", "live", "--keys-file", keys, "--mode", "strict"],
      ...["--access-mode", "subscription", "--subscribe", `${alice.id}:30`, "--subscribe", `${bob.id}:30`],
      "--yes",
    ]);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = JSON.parse(imp.stdout) as { batch_id: string; status: string };
    batch = result.batch_id;
    expect(result.status).toBe("succeeded");
    probe = (await showHost()).probe_user ?? undefined;
    expect(probe).toMatchObject({
      email: expect.stringMatching(/^relay-probe-[0-9a-f]+@relay\.invalid$/),
      created_by_relay: true,
    });
    const p = probe as ProbeUser;
    // Judged from the host: the user, its active subscription and its key, which the gateway serves.
    expect((await hostUser(live, p.user_id))?.email).toBe(p.email);
    const subs = await listAll<HostSub>(live, `/subscriptions?user_id=${p.user_id}`);
    probeSub = subs.find((s) => s.user_id === p.user_id && s.status === "active");
    expect(probeSub, JSON.stringify(subs)).toBeDefined();
    const own = await userKeys(live, p.user_id);
    expect(own.map((k) => k.name)).toEqual([expect.stringMatching(/^relay-probe-deepseek-/)]);
    probeKey = own[0]?.key;
    expect(await gatewayStatus(live, probeKey as string)).toBe(200);
  });

  it("--dry-run lists the probe user, its subscription and key, and changes nothing on the host", {
    timeout: LONG,
  }, async (t) => {
    if (!probe) return t.skip("no probe user on this build");
    const was = await people(live);
    const wasKeys = await userKeys(live, probe.user_id);
    const dry = await relay(["host", "remove-probe-user", "live", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({
      outcome: "would_remove",
      dry_run: true,
      probe_user: { email: probe.email, user_id: probe.user_id, on_host: true },
      subscriptions: [{ provider_id: "deepseek", subscription_id: probeSub?.id }],
      api_keys: [{ provider_id: "deepseek", key_id: wasKeys[0]?.id }],
      providers: ["deepseek"],
      next_email: probe.email.replace("@relay.invalid", "-g2@relay.invalid"),
    });
    nextEmail = plan.next_email;
    expect(await people(live)).toEqual(was);
    expect(await userKeys(live, probe.user_id)).toEqual(wasKeys);
    expect((await showHost()).probe_user).toEqual(probe);
  });

  it("--yes deletes the probe user and revokes its subscription; its key is refused; nothing else moved", {
    timeout: LONG,
  }, async (t) => {
    if (!probe || !probeKey || !probeSub) return t.skip("no probe user on this build");
    const was = await people(live);
    const removed = await relay(["host", "remove-probe-user", "live", "--yes"]);
    expect(removed.code, `${removed.stdout}\n${removed.stderr}`).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ outcome: "removed", dry_run: false });
    const now = await people(live);
    // The user: GET 404, not listed, its keys gone with it and refused at the gateway.
    expect(await hostUser(live, probe.user_id)).toBeUndefined();
    expect(now.users.map((u) => u.id)).not.toContain(probe.user_id);
    expect(await userKeys(live, probe.user_id)).toEqual([]);
    expect(await gatewayStatus(live, probeKey)).toBe(401);
    // Its subscription relay assigned: no longer active (revoked, or no longer listed).
    const sub = now.subscriptions.find((s) => s.id === probeSub?.id);
    expect(sub?.status ?? "gone", JSON.stringify(sub)).not.toBe("active");
    process.stderr.write(
      `live probe user: #${probe.user_id} GET 404, old key 401 at the gateway, subscription #${probeSub.id} ${sub?.status ?? "no longer listed"}\n`,
    );
    // Everything else, the test's own users and their subscriptions among it, as it was.
    expect(othersOf(now, probe.user_id)).toEqual(othersOf(was, probe.user_id));
    for (const u of [alice, bob])
      expect(now.subscriptions.filter((s) => s.user_id === u.id).map((s) => s.status)).toEqual(["active"]);
    expect((await showHost()).probe_user).toBeNull();
  });

  it("a second run has nothing to remove and changes nothing", { timeout: LONG }, async (t) => {
    if (!probe) return t.skip("no probe user on this build");
    const was = await people(live);
    const again = await relay(["host", "remove-probe-user", "live", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "nothing_to_remove", probe_user: null });
    expect(await people(live)).toEqual(was);
  });

  it("the next proof makes a new probe user under the -g2 address and passes", {
    timeout: LONG,
  }, async (t) => {
    if (!probe) return t.skip("no probe user on this build");
    const proof = await relay(["access", "status", "deepseek", "--host", "live", "--probe"]);
    expect(proof.code, `${proof.stdout}\n${proof.stderr}`).toBe(0);
    expect(JSON.parse(proof.stdout)).toMatchObject({ access_state: "subscription_ready" });
    const next = (await showHost()).probe_user;
    expect(next?.email).toBe(nextEmail);
    expect(next?.user_id).not.toBe(probe.user_id);
    expect((await hostUser(live, next?.user_id as number))?.email).toBe(nextEmail);
  });

  it("rolls the batch back and removes the new probe user; nothing relay made is left live", {
    timeout: LONG,
  }, async () => {
    if (batch) {
      const rb = await relay(["batch", "rollback", batch, "--yes"]);
      expect(rb.code, `${rb.stdout}\n${rb.stderr}`).toBe(0);
    }
    const after = await snapshot(live);
    expect(madeSince(before, after)).toEqual({});
    expect(touched(before, after)).toEqual([]);
    if (!probe) return;
    const last = await relay(["host", "remove-probe-user", "live", "--yes"]);
    expect(last.code, `${last.stdout}\n${last.stderr}`).toBe(0);
    const hostId = (await showHost()).id;
    const left = (await listAll<HostUserRow>(live, "/users")).filter((u) =>
      u.email.startsWith(`relay-probe-${hostId}`),
    );
    expect(left).toEqual([]);
  });
});
