import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { addHost } from "../../src/hosts/hosts.js";
import { importKeys } from "../../src/provision/import.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { runRelay } from "../helpers/cli.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { parseExposition, promtoolCheck } from "../helpers/exposition.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";
import { startSimulator } from "../sim/sub2api/server.js";

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

// #25 item 4: cron across hosts — an unreachable host neither hides drift elsewhere nor floods stderr.
describe("reconcile run --all from cron", () => {
  it("drift on one host and an unreachable other: exit 2, one short stderr line, a textfile of gauges", async () => {
    w = await makeWorld();
    const down = await startSimulator();
    await addHost(w.t.ctx, { name: "down", baseUrl: down.url, adminKey: down.sim.state.adminApiKey });
    for (const hostRef of ["sim", "down"])
      await importKeys(w.t.ctx, { hostRef, providerId: "deepseek", keys: [deepseekKey()], mode: "strict" });
    const first = await relay(["reconcile", "run", "--all", "--retest", "none"]);
    expect(first.code, first.stderr).toBe(0);
    await down.close();
    const victim = liveOnHost(w.sim).accounts[0];
    if (victim) victim.deletedAt = Date.now();
    const file = join(w.t.dir, "relay.prom");
    const r = await runRelay(["reconcile", "run", "--all", "--retest", "none", "--metrics-file", file], {
      env: { ...w.t.env, RELAY_LOG_LEVEL: "info" },
    });
    // Drift on sim is not hidden by the error on down (docs/operations.md: exit codes).
    expect(r.code, r.stderr).toBe(2);
    const errors = r.stderr.split("\n").filter((l) => l !== "");
    expect(errors, r.stderr).toHaveLength(1);
    const line = errors[0] ?? "";
    expect(line.length, line).toBeLessThan(400);
    expect(line).not.toMatch(/\n|\s+at |stack|caused by/);
    expect(JSON.parse(line)).toMatchObject({
      level: 50,
      msg: "reconcile failed",
      host: "down",
      provider_id: "deepseek",
      code: "HOST_UNREACHABLE",
    });
    expect(r.stdout).toMatch(/deepseek\s+sim\s+drift/);
    expect(r.stdout).toMatch(/deepseek\s+down\s+error/);
    expect(r.stdout).toMatch(/✗ deepseek on down: cannot reach/);
    // The details are at debug level.
    const debug = await runRelay(["reconcile", "run", "--all", "--retest", "none"], {
      env: { ...w.t.env, RELAY_LOG_LEVEL: "debug" },
    });
    expect(debug.stderr).toMatch(/reconcile failed \(details\)/);

    const text = readFileSync(file, "utf8");
    const check = promtoolCheck(text);
    if (check) expect(check.ok, `${check.output}\n${text}`).toBe(true);
    const families = parseExposition(text);
    for (const f of families.values()) expect(f.type, f.name).toBe("gauge");
    const hosts = new Set([...families.values()].flatMap((f) => f.samples.map((s) => s.labels.host)));
    hosts.delete(undefined);
    expect([...hosts].sort()).toEqual(["down", "sim"]);
    const value = (name: string, labels: Record<string, string>) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    expect(value("relay_reconcile_run_providers", { host: "sim", outcome: "drift" })).toBe(1);
    expect(value("relay_reconcile_run_providers", { host: "down", outcome: "error" })).toBe(1);
    expect(value("relay_reconcile_run_findings", { host: "sim", kind: "missing" })).toBe(1);
    expect(value("relay_reconcile_exit_code", {})).toBe(2);
    const lastRun = value("relay_reconcile_last_run_timestamp_seconds", { host: "down" }) ?? 0;
    const lastSuccess = value("relay_reconcile_last_success_timestamp_seconds", { host: "down" }) ?? 0;
    // down's last success is the first run, from relay's records, not this process's memory.
    expect(lastSuccess).toBeGreaterThan(0);
    expect(lastRun).toBeGreaterThanOrEqual(lastSuccess);
    expect(value("relay_reconcile_last_success_timestamp_seconds", { host: "sim" })).toBe(
      value("relay_reconcile_last_run_timestamp_seconds", { host: "sim" }),
    );

    // The details are under --json: the error's code and message per provider.
    const asJson = await json(["reconcile", "run", "--all", "--retest", "none"]);
    expect(asJson.code).toBe(2);
    const failed = asJson.body.items.find((i: { host_name: string }) => i.host_name === "down");
    expect(failed).toMatchObject({ outcome: "error", reason: expect.any(String) });
  });

  it("/metrics: the host label is the host's name everywhere, and the text passes promtool", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    await reconcileProvider(w.t.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "manual" });
    const res = await createApp(w.t.ctx).request("/metrics", {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    const text = await res.text();
    const check = promtoolCheck(text);
    if (check) expect(check.ok, `${check.output}\n${text}`).toBe(true);
    const families = parseExposition(text);
    const hosts = new Set([...families.values()].flatMap((f) => f.samples.map((s) => s.labels.host)));
    hosts.delete(undefined);
    expect([...hosts]).toEqual(["sim"]);
    expect(families.get("relay_host_calls_total")?.samples.length).toBeGreaterThan(0);
    expect(families.get("relay_reconcile_last_success_timestamp_seconds")?.samples).toEqual([
      expect.objectContaining({ labels: { host: "sim" } }),
    ]);
  });
});
