import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { projectRoot } from "../../src/util/paths.js";
import { runRelay } from "../helpers/cli.js";
import { makeTestEnv } from "../helpers/context.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";
import { startSimulator } from "../sim/sub2api/server.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("relay's probe user is announced and listed (issue #25 item 6)", () => {
  it("the import that creates it says so once; host show and the API list it; the host has it", async () => {
    w = await makeWorld();
    const importOnce = async () => {
      const file = join(w.t.dir, `k-${Math.random().toString(36).slice(2)}.keys`);
      writeFileSync(file, `${deepseekKey()}\n`);
      return runRelay(
        [
          "provider",
          "import",
          "deepseek",
          "--host",
          "sim",
          "--keys-file",
          file,
          "--mode",
          "partial",
          "--access-mode",
          "subscription",
          "--yes",
        ],
        { env: w.t.env },
      );
    };
    const before = JSON.parse((await runRelay(["--json", "host", "show", "sim"], { env: w.t.env })).stdout);
    expect(before.probe_user).toBeNull();

    const first = await importOnce();
    expect(first.code, first.stderr).toBe(0);
    const said = first.stdout.split("\n").filter((l) => /probe user/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^! relay created its probe user relay-probe-[0-9a-f]+@relay\.invalid on host sim /,
    );

    const shown = JSON.parse((await runRelay(["--json", "host", "show", "sim"], { env: w.t.env })).stdout);
    expect(shown.probe_user).toMatchObject({ created_by_relay: true });
    // Judged from the host: the user relay lists is there, with the address relay gave it.
    const onHost = [...w.sim.sim.state.users.values()].find((u) => u.id === shown.probe_user.user_id);
    expect(onHost?.email).toBe(shown.probe_user.email);
    const human = await runRelay(["host", "show", "sim"], { env: w.t.env });
    expect(human.stdout).toMatch(
      new RegExp(
        `^probe user:\\s+${shown.probe_user.email.replace(/\./g, "\\.")} \\(#${onHost?.id}, created by relay to prove access\\)$`,
        "m",
      ),
    );

    const second = await importOnce();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toMatch(/probe user/);
  }, 120_000);
});

/** The host's users, subscriptions and keys as it holds them: what a removal may or may not touch. */
function hostState(world: { sim: World["sim"] }) {
  const s = world.sim.sim.state;
  return {
    users: [...s.users.values()].map((u) => ({
      id: u.id,
      email: u.email,
      deleted: u.deletedAt !== undefined,
    })),
    subscriptions: [...s.subscriptions.values()].map((x) => ({ id: x.id, user: x.userId, status: x.status })),
    keys: [...s.apiKeys.values()].map((k) => ({
      id: k.id,
      user: k.userId,
      deleted: k.deletedAt !== undefined,
    })),
  };
}

/** Everything on the host that is not the given user's. */
function othersOf(state: ReturnType<typeof hostState>, userId: number) {
  return {
    users: state.users.filter((u) => u.id !== userId),
    subscriptions: state.subscriptions.filter((x) => x.user !== userId),
    keys: state.keys.filter((k) => k.user !== userId),
  };
}

const liveProbeUsers = (world: { sim: World["sim"] }) =>
  [...world.sim.sim.state.users.values()].filter((u) => !u.deletedAt && u.email.startsWith("relay-probe-"));

async function importWithAlice(world: { t: World["t"] }, alice: number) {
  const file = join(world.t.dir, `k-${Math.random().toString(36).slice(2)}.keys`);
  writeFileSync(file, `${deepseekKey()}\n`);
  const args = ["provider", "import", "deepseek", "--host", "sim", "--keys-file", file, "--mode", "partial"];
  const r = await runRelay(
    [...args, "--access-mode", "subscription", "--subscribe", `${alice}:30`, "--yes"],
    {
      env: world.t.env,
    },
  );
  expect(r.code, r.stderr).toBe(0);
}

const showHost = async (env: Record<string, string>) =>
  JSON.parse((await runRelay(["--json", "host", "show", "sim"], { env })).stdout);

describe("relay host remove-probe-user (issue #25 item 6)", () => {
  it("lists without changing, refuses without --yes, removes only the probe user's own, says nothing is left, and the next proof makes a new user", async () => {
    w = await makeWorld();
    const alice = w.sim.sim.state.addUser({ email: "alice@example.com", password: "alice-pass-1" }).id;
    await importWithAlice(w, alice);
    const { probe_user: made } = await showHost(w.t.env);
    expect(made).toMatchObject({ email: expect.stringMatching(/^relay-probe-[0-9a-f]+@relay\.invalid$/) });
    const before = hostState(w);

    const dry = await runRelay(["--json", "host", "remove-probe-user", "sim", "--dry-run"], { env: w.t.env });
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({
      outcome: "would_remove",
      dry_run: true,
      probe_user: { email: made.email, user_id: made.user_id, on_host: true },
      subscriptions: [{ provider_id: "deepseek" }],
      api_keys: [{ provider_id: "deepseek", name: expect.stringMatching(/^relay-probe-deepseek-/) }],
      providers: ["deepseek"],
      next_email: made.email.replace("@relay.invalid", "-g2@relay.invalid"),
    });
    const human = await runRelay(["host", "remove-probe-user", "sim", "--dry-run"], { env: w.t.env });
    expect(human.stdout).toMatch(/^relay would remove its probe user from host sim:$/m);
    expect(human.stdout).toMatch(/Nothing was changed \(dry run\)\./);
    expect(hostState(w)).toEqual(before);
    expect((await showHost(w.t.env)).probe_user).toEqual(made);

    const refused = await runRelay(["host", "remove-probe-user", "sim"], { env: w.t.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/add --yes/);
    expect(hostState(w)).toEqual(before);

    const removed = await runRelay(["--json", "host", "remove-probe-user", "sim", "--yes"], { env: w.t.env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ outcome: "removed", dry_run: false });
    // Judged from the host: the probe user is deleted, its key went with it, its subscription is
    // revoked; alice, the admin and alice's subscription are as they were.
    const after = hostState(w);
    expect(after.users.find((u) => u.id === made.user_id)?.deleted).toBe(true);
    expect(after.keys.filter((k) => k.user === made.user_id).every((k) => k.deleted)).toBe(true);
    expect(after.subscriptions.filter((x) => x.user === made.user_id).map((x) => x.status)).toEqual([
      "revoked",
    ]);
    expect(othersOf(after, made.user_id)).toEqual(othersOf(before, made.user_id));
    expect(after.subscriptions.find((x) => x.user === alice)?.status).toBe("active");
    expect((await showHost(w.t.env)).probe_user).toBeNull();

    const again = await runRelay(["host", "remove-probe-user", "sim", "--yes"], { env: w.t.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/nothing to remove/);
    expect(hostState(w)).toEqual(after);

    const proof = await runRelay(["--json", "access", "status", "deepseek", "--host", "sim", "--probe"], {
      env: w.t.env,
    });
    expect(proof.code, proof.stderr).toBe(0);
    expect(JSON.parse(proof.stdout)).toMatchObject({ access_state: "subscription_ready" });
    const { probe_user: next } = await showHost(w.t.env);
    expect(next.email).toBe(plan.next_email);
    expect(next.user_id).not.toBe(made.user_id);
    expect(liveProbeUsers(w).map((u) => u.email)).toEqual([plan.next_email]);
  }, 180_000);
});

describe("remove-probe-user when the host's answer to DELETE is lost after it acted", () => {
  let proxied: { t: World["t"]; sim: World["sim"]; proxy: FaultProxy } | undefined;
  afterEach(async () => {
    await proxied?.proxy.close();
    await proxied?.sim.close();
    await proxied?.t.cleanup();
    proxied = undefined;
  });

  it("a dropped answer is retried to a clean end; a 503 after the host acted leaves it unfinished, and running it again ends clean", async () => {
    const sim = await startSimulator({});
    const proxy = await FaultProxy.start(sim.url);
    const t = await makeTestEnv();
    proxied = { t, sim, proxy };
    await installPack(t.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
    await addHost(t.ctx, { name: "sim", baseUrl: proxy.url, adminKey: sim.sim.state.adminApiKey });
    const alice = sim.sim.state.addUser({ email: "alice@example.com", password: "alice-pass-1" }).id;
    await importWithAlice(proxied, alice);
    const first = (await showHost(t.env)).probe_user;
    const userDelete = /^DELETE \/api\/v1\/admin\/users\/\d+$/;

    // The connection drops after the host deleted the user: the client asks again, meets 404.
    proxy.arm({ match: userDelete, mode: "drop" });
    const dropped = await runRelay(["--json", "host", "remove-probe-user", "sim", "--yes"], { env: t.env });
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(proxy.hits).toHaveLength(1);
    expect(JSON.parse(dropped.stdout)).toMatchObject({ outcome: "removed" });
    expect(sim.sim.state.users.get(first.user_id)?.deletedAt).toBeDefined();
    expect((await showHost(t.env)).probe_user).toBeNull();

    const probe = ["--json", "access", "status", "deepseek", "--host", "sim", "--probe"];
    expect((await runRelay(probe, { env: t.env })).code).toBe(0);
    const second = (await showHost(t.env)).probe_user;
    expect(second.email).toMatch(/-g2@relay\.invalid$/);
    const before = hostState(proxied);

    // Every answer to the delete is a load balancer's 503, though the host deleted the user.
    proxy.arm({ match: userDelete, mode: "503", times: 20 });
    const lost = await runRelay(["host", "remove-probe-user", "sim", "--yes"], { env: t.env });
    proxy.disarm();
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/removal is unfinished/);
    expect(lost.stderr).toMatch(/relay host remove-probe-user sim --yes/);
    expect(sim.sim.state.users.get(second.user_id)?.deletedAt).toBeDefined();
    // Meanwhile a proof neither uses nor replaces the half-removed user.
    const meanwhile = await runRelay(probe, { env: t.env });
    expect(JSON.parse(meanwhile.stdout).reason).toMatch(/has not finished/);
    expect(liveProbeUsers(proxied)).toEqual([]);

    const resumed = await runRelay(["--json", "host", "remove-probe-user", "sim", "--yes"], { env: t.env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      outcome: "removed",
      probe_user: { email: second.email, on_host: false },
      next_email: second.email.replace("-g2@", "-g3@"),
    });
    // Judged from the host: nothing of the probe user's left live, nobody else's touched.
    const after = hostState(proxied);
    expect(after.subscriptions.filter((x) => x.user === second.user_id).map((x) => x.status)).toEqual([
      "revoked",
    ]);
    expect(after.keys.filter((k) => k.user === second.user_id).every((k) => k.deleted)).toBe(true);
    expect(othersOf(after, second.user_id)).toEqual(othersOf(before, second.user_id));
    expect(after.subscriptions.find((x) => x.user === alice)?.status).toBe("active");

    expect((await runRelay(probe, { env: t.env })).code).toBe(0);
    expect(liveProbeUsers(proxied).map((u) => u.email)).toEqual([second.email.replace("-g2@", "-g3@")]);
  }, 180_000);
});
