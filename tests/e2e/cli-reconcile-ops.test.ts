import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { importKeys } from "../../src/provision/import.js";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const relay = (args: string[]) => runRelay(args, { env: w.t.env });
const json = async (args: string[]) => {
  const r = await relay(["--json", ...args]);
  return { code: r.code, stderr: r.stderr, body: JSON.parse(r.stdout) };
};

// #25 item 2: findings are about the host as it is now, and what heal makes is recorded.
describe("findings that clear", () => {
  it("a strict import that failed and was rolled back cleanly: reconcile exits 0, the status names an action", async () => {
    w = await makeWorld();
    w.sim.sim.options.faults = { errorRate: 1, match: /^POST \/api\/v1\/admin\/accounts\/\d+\/test$/ };
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    expect(r.status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);
    w.sim.sim.options.faults = {};
    for (let i = 0; i < 2; i++) {
      const run = await json(["reconcile", "run", "--all"]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.body.items).toEqual([expect.objectContaining({ outcome: "ok", findings: [] })]);
    }
    const status = await json(["provider", "status", "deepseek"]);
    expect(status.body.hosts[0].status).toBe("failed");
    expect(status.body.hosts[0].reason).toMatch(/`relay provider import deepseek --host sim/);
  });

  it("--heal re-creates a deleted channel and records it: the next preview and import exit 0", async () => {
    w = await makeWorld();
    const keys = [deepseekKey()];
    await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    const channel = liveOnHost(w.sim).channels[0];
    if (!channel) throw new Error("no channel");
    w.sim.sim.state.channels.delete(channel.id);
    const healed = await json(["provider", "reconcile", "deepseek", "--host", "sim", "--heal"]);
    expect(healed.code, healed.stderr).toBe(0);
    const made = liveOnHost(w.sim).channels;
    expect(made).toHaveLength(1);
    expect(made[0]?.name).toMatch(new RegExp(`^${channel.name}-r[0-9a-z]+$`));
    const resources = await json(["provider", "resources", "deepseek", "--host", "sim"]);
    expect(resources.body.items).toContainEqual(
      expect.objectContaining({ type: "channel", name: made[0]?.name, host_resource_id: made[0]?.id }),
    );
    const file = join(w.t.dir, "k.txt");
    writeFileSync(file, `${keys.join("\n")}\n`);
    const preview = await json(["provider", "preview", "deepseek", "--host", "sim", "--keys-file", file]);
    expect(preview.code, JSON.stringify(preview.body)).toBe(0);
    expect(preview.body.resources).toContainEqual(
      expect.objectContaining({ type: "channel", action: "reuse", host_resource_id: made[0]?.id }),
    );
    const again = await relay([
      "provider",
      "import",
      "deepseek",
      "--host",
      "sim",
      "--keys-file",
      file,
      "--mode",
      "strict",
      "--yes",
    ]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(liveOnHost(w.sim).channels.map((c) => c.id)).toEqual([made[0]?.id]);
    const after = await json(["provider", "reconcile", "deepseek", "--host", "sim"]);
    expect(after.code, JSON.stringify(after.body.findings)).toBe(0);
  });
});

// #25 item 3: a hand edit is drift with expected and actual; an ignore rule silences exactly it.
describe("ignore rules", () => {
  it("the group's rate multiplier changed by hand: drift (exit 2); RELAY_DRIFT_IGNORE hides it and says so", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const g = liveOnHost(w.sim).groups[0];
    if (!g) throw new Error("no group");
    g.rateMultiplier = 2.5;
    const drift = await json(["reconcile", "run", "--all", "--retest", "none"]);
    expect(drift.code).toBe(2);
    expect(drift.body.items[0].findings).toEqual([
      expect.objectContaining({
        kind: "changed",
        resource_type: "group",
        field: "rate_multiplier",
        expected: 1,
        actual: 2.5,
        next_step: expect.stringMatching(/RELAY_DRIFT_IGNORE="deepseek:group.rate_multiplier"/),
      }),
    ]);
    const env = { ...w.t.env, RELAY_DRIFT_IGNORE: "deepseek:group.rate_multiplier, kimi:account.*" };
    const quiet = await runRelay(["reconcile", "run", "--all", "--retest", "none"], { env });
    expect(quiet.code, quiet.stdout + quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/1 difference\(s\) ignored for deepseek on sim/);
    expect(quiet.stdout).toMatch(/rate_multiplier is 2\.5, relay set 1 \[deepseek:group\.rate_multiplier\]/);
    const asJson = await runRelay(["--json", "reconcile", "run", "--all", "--retest", "none"], { env });
    const item = JSON.parse(asJson.stdout).items[0];
    expect(item.findings).toEqual([]);
    expect(item.ignored).toEqual([
      expect.objectContaining({ rule: "deepseek:group.rate_multiplier", expected: 1, actual: 2.5 }),
    ]);
    // Exactly that: another field changed by hand is still drift.
    g.dailyLimitUsd = 1;
    const other = await json(["reconcile", "run", "--all", "--retest", "none"]);
    expect(other.code).toBe(2);
    const again = await runRelay(["--json", "reconcile", "run", "--all", "--retest", "none"], { env });
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout).items[0].findings.map((f: { field: string }) => f.field)).toEqual([
      "daily_limit_usd",
    ]);
  });

  it("a rule naming a field reconcile does not watch stops the command, naming the variable", async () => {
    w = await makeWorld();
    const r = await runRelay(["reconcile", "run", "--all"], {
      env: { ...w.t.env, RELAY_DRIFT_IGNORE: "deepseek:group.rate" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RELAY_DRIFT_IGNORE: "deepseek:group.rate": group has no watched field "rate"/);
  });
});
