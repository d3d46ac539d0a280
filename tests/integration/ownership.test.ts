import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { buildPlan } from "../../src/provision/preview.js";
import { recoverBatches } from "../../src/provision/recover.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { runAccessProbe } from "../../src/steps/access-proof.js";
import { projectRoot } from "../../src/util/paths.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";
import { makeProxiedWorld, runImport } from "../reliability/lost-answers.js";
import { SecretLedger } from "../reliability/suite.js";

let w: World;
const extra: TestEnv[] = [];
afterEach(async () => {
  for (const t of extra.splice(0)) t.cleanup();
  await w?.close();
});

/** Keys matching each shipped provider's key_pattern. */
const keyFor = (provider: string) =>
  provider === "zhipu" ? `${"a".repeat(32)}.${deepseekKey().slice(3, 19)}` : deepseekKey();

describe("truthful ownership (each test is named after what went wrong before)", () => {
  it("lost or late answers: creates the host performed but whose answers were lost left live groups and accounts holding provider keys, on the OpenAI-fallback build too", async () => {
    const ledger = new SecretLedger();
    const pw = await makeProxiedWorld("openai-compat", ledger);
    try {
      const cases = [
        { match: /^POST \/api\/v1\/admin\/groups$/, mode: "drop" as const },
        { match: /^POST \/api\/v1\/admin\/accounts(\/batch)?$/, mode: "late" as const },
        { match: /^POST \/api\/v1\/admin\/accounts(\/batch)?$/, mode: "503" as const },
      ];
      for (const c of cases) {
        pw.proxy.arm(c);
        const r = await runImport(pw, "strict", ledger);
        pw.proxy.disarm();
        // A lost group create fails the batch; a lost batch create is replayed under its
        // Idempotency-Key (the host answers with the first result), so the batch can succeed.
        expect(["rolled_back", "succeeded"]).toContain(r.status);
        await pw.proxy.settle(); // the late create lands on the host now, after the answer was lost
        if (r.status === "succeeded") {
          expect(liveOnHost(pw.sim, r.batch_id).accounts).toHaveLength(2); // no duplicate from the replay
          await rollbackBatch(pw.ctx, r.batch_id);
        }
        await reconcileProvider(pw.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "cli" });
        // From the host: no group and no account of relay's is live, none holds a provider key.
        const live = liveOnHost(pw.sim);
        expect(live.groups).toEqual([]);
        expect(live.accounts).toEqual([]);
        expect(pw.sim.sim.state.liveAccounts().filter((a) => a.name.startsWith("deepseek-"))).toEqual([]);
      }
      expect(pw.proxy.hits.map((h) => h.mode)).toEqual(["drop", "late", "503"]);
    } finally {
      await pw.close();
    }
  });

  it("probe key: after every full rollback the probe user's API key stayed active on the host with no group", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r.access_closure_status).toBe("subscription_ready");
    const s = w.sim.sim.state;
    const probe = [...s.users.values()].find((u) => u.email.startsWith("relay-probe-"));
    expect(s.liveKeys().filter((k) => k.userId === probe?.id)).toHaveLength(1);
    await rollbackBatch(w.t.ctx, r.batch_id);
    // From the host: the probe user has no live key and nothing else relay made is live.
    expect(s.liveKeys().filter((k) => k.userId === probe?.id)).toEqual([]);
    expect(liveCount(w.sim)).toBe(0);
  });

  it("a second install on the same host previewed 'reuse: adopting group left by batch …' and its rollback deleted the first install's group", async () => {
    w = await makeWorld();
    const first = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(first.status).toBe("succeeded");
    const before = liveOnHost(w.sim);

    // A second relay database (another installation) registers the same host.
    const second = await makeTestEnv();
    extra.push(second);
    await installPack(second.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
    await addHost(second.ctx, { name: "sim", baseUrl: w.sim.url, adminKey: w.sim.sim.state.adminApiKey });
    expect(second.ctx.installId).not.toBe(w.t.ctx.installId);
    const { plan } = await buildPlan(second.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    expect(plan.resources.map((r) => [r.type, r.action])).toEqual([
      ["group", "create"],
      ["channel", "create"],
    ]);
    const other = await importKeys(second.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(other.status).toBe("succeeded");
    await rollbackBatch(second.ctx, other.batch_id);

    // Judged from the host: everything of the first install is still live, untouched.
    const after = liveOnHost(w.sim);
    expect(after.groups.map((g) => [g.id, g.name, g.status])).toEqual(
      before.groups.map((g) => [g.id, g.name, g.status]),
    );
    expect(after.accounts.map((a) => [a.id, a.groupIds])).toEqual(
      before.accounts.map((a) => [a.id, a.groupIds]),
    );
    expect(after.channels.map((c) => c.id)).toEqual(before.channels.map((c) => c.id));
    expect(after.subscriptions.map((x) => x.id)).toEqual(before.subscriptions.map((x) => x.id));
    expect((await runAccessProbe(w.t.ctx, { hostRef: "sim", providerId: "deepseek" })).access_state).toBe(
      "subscription_ready",
    );
  });

  it("partial-mode crash recovery marked group and channel reused even when no account passed", async () => {
    w = await makeWorld();
    // Every account test hangs, so the import is killed after creating accounts and before any passes.
    w.sim.sim.options.faults = { hangRate: 1, hangMs: 60_000, match: /\/accounts\/\d+\/test$/ };
    const keys = join(w.t.dir, "k.keys");
    writeFileSync(keys, `${deepseekKey()}\n${deepseekKey()}\n`);
    const child = spawn(
      process.execPath,
      [
        RELAY_BIN,
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keys,
        "--mode",
        "partial",
        "--yes",
      ],
      { env: { PATH: process.env.PATH ?? "", ...w.t.env }, stdio: "ignore" },
    );
    const deadline = Date.now() + 15_000;
    while (liveOnHost(w.sim).accounts.length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(liveOnHost(w.sim).accounts).toHaveLength(2);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    w.sim.sim.options.faults = {};

    const outcomes = await recoverBatches(w.t.ctx);
    expect(outcomes.map((o) => o.action)).toEqual(["rolled_back"]);
    // From the host: no group, channel or account of the batch is left.
    expect(liveOnHost(w.sim)).toMatchObject({ groups: [], channels: [], accounts: [] });
  });

  it("a lost answer on probe-user creation left a user relay held no password for; access could never be proven", async () => {
    w = await makeWorld();
    // The host already has relay's probe user (its creation answered, but the answer never came back).
    const hostId = w.hostId.replace(/^host_/, "");
    w.sim.sim.state.addUser({
      email: `relay-probe-${hostId}@relay.invalid`,
      password: "a-password-relay-never-saw",
    });
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    expect(r.access_closure_status).toBe("subscription_ready");
    expect(r.provider_status).toBe("active");
    const probes = [...w.sim.sim.state.users.values()].filter((u) => u.email.startsWith("relay-probe-"));
    expect(probes).toHaveLength(1);
  });

  it("a subscription step that failed in partial mode (a user id that does not exist) rolled back every tested account; preview never checked the users", async () => {
    w = await makeWorld();
    const alice = w.sim.sim.state.addUser({ email: "alice@example.com", password: "alice-password" });
    const subscribe = [{ userId: alice.id }, { userId: 999_999 }];
    const { plan } = await buildPlan(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "partial",
      subscribe,
    });
    expect(plan.subscriptions.map((s) => [s.user_id, s.action])).toEqual([
      [alice.id, "create"],
      [999_999, "conflict"],
    ]);
    expect(plan.subscriptions[1]?.reason).toMatch(/does not exist/);

    // Strict mode refuses before any host write.
    const requests = w.sim.sim.requestCount;
    await expect(
      importKeys(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: [deepseekKey()],
        mode: "strict",
        subscribe,
      }),
    ).rejects.toMatchObject({ code: "IMPORT_BLOCKED" });
    expect(liveCount(w.sim)).toBe(0);
    expect(w.sim.sim.requestCount - requests).toBeLessThan(10);

    // Partial mode keeps the working account, assigns alice, reports the missing user.
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "partial",
      subscribe,
    });
    expect(r.status).toBe("partially_succeeded");
    expect(r.summary.working).toBe(1);
    expect(r.subscriptions.map((s) => [s.user_id, s.status])).toEqual([
      [alice.id, "assigned"],
      [999_999, "failed"],
    ]);
    expect(liveOnHost(w.sim, r.batch_id).accounts).toHaveLength(1);
    expect(liveOnHost(w.sim, r.batch_id).subscriptions.map((s) => s.userId)).toEqual([alice.id]);
  });

  it("concurrent imports for different providers on one database failed 1 in 5 with 'database is locked'", async () => {
    w = await makeWorld();
    const providers = ["deepseek", "kimi", "qwen", "zhipu", "minimax"];
    for (let round = 0; round < 2; round++) {
      const runs = await Promise.all(
        providers.map((p) => {
          const file = join(w.t.dir, `${p}-${round}.keys`);
          writeFileSync(file, `${keyFor(p)}\n`);
          return runRelay(
            [
              "--json",
              "provider",
              "import",
              p,
              "--host",
              "sim",
              "--keys-file",
              file,
              "--mode",
              "strict",
              "--yes",
            ],
            { env: w.t.env, timeoutMs: 60_000 },
          );
        }),
      );
      for (const r of runs) {
        expect(r.stderr).not.toMatch(/database is locked|internal error/i);
        expect(r.code).toBe(0);
      }
    }
    expect(liveOnHost(w.sim).groups).toHaveLength(5);
  });
});
