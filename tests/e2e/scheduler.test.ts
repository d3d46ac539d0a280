import { spawn } from "node:child_process";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { importKeys } from "../../src/provision/import.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { rows } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("relay serve runs scheduled reconciles", () => {
  it("with a fast cron: several runs, never two at once for the same provider", async () => {
    w = await makeWorld({ faults: { latencyMs: 30 } });
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    const port = await freePort();
    const child = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        ...w.t.env,
        PATH: process.env.PATH ?? "",
        RELAY_LISTEN: `127.0.0.1:${port}`,
        RELAY_RECONCILE_CRON: "* * * * * *",
        RELAY_RECONCILE_JITTER_MS: "0",
      },
      stdio: "ignore",
    });
    try {
      const deadline = Date.now() + 15_000;
      let runs: { outcome: string; startedAt: string; finishedAt: string | null; trigger: string }[] = [];
      while (Date.now() < deadline) {
        runs = await rows<(typeof runs)[number]>(
          w.t.ctx,
          sql`SELECT outcome, started_at, finished_at, trigger FROM reconcile_runs WHERE trigger = 'schedule' AND outcome != 'running' ORDER BY id`,
        );
        if (runs.length >= 3) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(runs.length).toBeGreaterThanOrEqual(3);
      const done = runs.filter((r) => r.outcome !== "skipped");
      expect(done.every((r) => r.outcome === "ok")).toBe(true);
      for (let i = 1; i < done.length; i++) {
        expect(Date.parse(done[i]?.startedAt as string)).toBeGreaterThanOrEqual(
          Date.parse(done[i - 1]?.finishedAt as string),
        );
      }
    } finally {
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });
});

describe("relay reconcile run and relay provider status|resources|reconcile", () => {
  it("exit 0 when all is well, 2 after an account is deleted by hand, with the finding in status", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
      accessMode: "subscription",
    });
    const ok = await runRelay(["reconcile", "run", "--all"], { env: w.t.env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/deepseek\s+\S+\s+ok\s+healthy\s+in_sync\s+active → active\s+0\s+2 \(all\)/);
    const sampled = await runRelay(["--json", "reconcile", "run", "--all", "--retest", "sample:1"], {
      env: w.t.env,
    });
    expect(JSON.parse(sampled.stdout).items[0].retest).toEqual({ policy: "sample:1", tested: 1 });
    const refused = await runRelay(["reconcile", "run", "--all", "--retest", "most"], { env: w.t.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--retest takes all, failed, none or sample:N/);
    const victim = liveOnHost(w.sim).accounts[0];
    if (victim) victim.deletedAt = Date.now();
    const drift = await runRelay(["--json", "provider", "reconcile", "deepseek", "--host", "sim"], {
      env: w.t.env,
    });
    expect(drift.code).toBe(2);
    expect(JSON.parse(drift.stdout).findings[0]).toMatchObject({ kind: "missing", name: victim?.name });
    const status = await runRelay(["provider", "status", "deepseek"], { env: w.t.env });
    // 1 of 2 accounts gone: health degraded, sync out_of_sync, the design's status drifted.
    expect(status.stdout).toMatch(/sim\s+degraded\s+out_of_sync\s+drifted/);
    expect(status.stdout).toMatch(new RegExp(`missing — account ${victim?.name}`));
    const resources = await runRelay(["--json", "provider", "resources", "deepseek", "--host", "sim"], {
      env: w.t.env,
    });
    expect(JSON.parse(resources.stdout).items.length).toBeGreaterThanOrEqual(4);
    const bad = await runRelay(["reconcile", "run"], { env: w.t.env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/give --all, or PROVIDER_ID with --host HOST/);
  });
});
