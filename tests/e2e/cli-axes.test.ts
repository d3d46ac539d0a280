/**
 * #25 item 1, the done-when checks on the simulator: all keys of a provider revoked → health
 * `down` in the CLI (a process), the API, the metric and the textfile; a stopped host →
 * unreachable in host list/show, the API and the metric, within one probe (`relay host probe` or
 * the scheduler's tick).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { importKeys } from "../../src/provision/import.js";
import { runReconcileTick } from "../../src/worker/scheduler.js";
import { runRelay } from "../helpers/cli.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { parseExposition, promtoolCheck } from "../helpers/exposition.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const json = async (args: string[]) => {
  const r = await runRelay(["--json", ...args], { env: w.t.env, timeoutMs: 60_000 });
  return { code: r.code, stderr: r.stderr, body: JSON.parse(r.stdout || "null") };
};
const api = async (path: string) => {
  const res = await createApp(w.t.ctx).request(path, {
    headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
  });
  return { status: res.status, text: await res.text() };
};
const sample = (text: string, name: string, labels: Record<string, string>) =>
  parseExposition(text)
    .get(name)
    ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe("health and sync, the same two values everywhere", () => {
  it("all keys revoked → health down in the CLI, the API, /metrics and the textfile; the status stays degraded", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey(), deepseekKey()];
    const r = await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    expect(r.status).toBe("succeeded");
    const first = await json(["reconcile", "run", "deepseek", "--host", "sim"]);
    expect(first.code, first.stderr).toBe(0);
    let status = await json(["provider", "status", "deepseek"]);
    expect(status.body.hosts[0]).toMatchObject({
      health: { state: "healthy" },
      sync: { state: "in_sync" },
      host_reachable: "yes",
    });

    for (const k of keys) w.sim.sim.upstream.revoke(k);
    const file = join(w.t.dir, "relay.prom");
    const run = await json(["reconcile", "run", "--all", "--metrics-file", file]);
    expect(run.code, run.stderr).toBe(2); // degradation: the exit code reads the health axis
    expect(run.body.items[0]).toMatchObject({
      outcome: "degraded",
      new_status: "degraded",
      health: "down",
      sync: "in_sync",
    });

    status = await json(["provider", "status", "deepseek"]);
    expect(status.code).toBe(0);
    expect(status.body.hosts[0]).toMatchObject({
      status: "degraded", // the design's word, for existing clients
      health: { state: "down", code: "all_accounts_unusable", accounts: { total: 3, unusable: 3 } },
      sync: { state: "in_sync" },
    });
    const human = await runRelay(["provider", "status", "deepseek"], { env: w.t.env });
    expect(human.stdout).toMatch(/sim\s+down\s+in_sync\s+degraded/);
    expect(human.stdout).toMatch(/health down — all 3 account\(s\) unusable/);
    const list = await json(["provider", "list"]);
    const deepseek = list.body.items.find((p: { provider_id: string }) => p.provider_id === "deepseek");
    expect(deepseek.hosts).toEqual([expect.objectContaining({ health: "down", sync: "in_sync" })]);

    const viaApi = await api("/api/providers/deepseek/status");
    expect(JSON.parse(viaApi.text).hosts[0].health.state).toBe("down");
    const metrics = (await api("/metrics")).text;
    const check = promtoolCheck(metrics);
    if (check) expect(check.ok, `${check.output}\n${metrics}`).toBe(true);
    expect(
      sample(metrics, "relay_provider_health", { host: "sim", provider: "deepseek", health: "down" }),
    ).toBe(1);
    expect(sample(metrics, "relay_provider_health", { host: "sim", health: "healthy" })).toBeUndefined();
    expect(
      sample(metrics, "relay_provider_sync", { host: "sim", provider: "deepseek", sync: "in_sync" }),
    ).toBe(1);
    const textfile = readFileSync(file, "utf8");
    const fileCheck = promtoolCheck(textfile);
    if (fileCheck) expect(fileCheck.ok, `${fileCheck.output}\n${textfile}`).toBe(true);
    expect(
      sample(textfile, "relay_provider_health", { host: "sim", provider: "deepseek", health: "down" }),
    ).toBe(1);
  });

  it("a stopped host is unreachable everywhere after one `relay host probe`", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    let hosts = await json(["host", "list"]);
    expect(hosts.body.items[0]).toMatchObject({ reachable: "yes", last_error: null });
    const okAt = hosts.body.items[0].last_probe_ok_at as string;
    expect(okAt).toMatch(/^\d{4}-/);

    await w.sim.close();
    const probe = await runRelay(["host", "probe", "sim"], { env: w.t.env, timeoutMs: 60_000 });
    expect(probe.code).toBe(1);
    hosts = await json(["host", "list"]);
    expect(hosts.body.items[0]).toMatchObject({
      status: "supported", // the capability verdict of the last answer, kept …
      reachable: "no", // … but the host did not answer
      last_probe_ok_at: okAt,
      last_error: { code: "HOST_UNREACHABLE", message: expect.stringContaining("cannot reach") },
    });
    const table = await runRelay(["host", "list"], { env: w.t.env });
    expect(table.stdout).toMatch(/sim\s+unreachable\s+no/);
    expect(table.stdout).not.toMatch(/supported/);
    const show = await runRelay(["host", "show", "sim"], { env: w.t.env });
    expect(show.stdout).toMatch(/status:\s+UNREACHABLE/);
    expect(show.stdout).toMatch(/last error:\s+\S+ HOST_UNREACHABLE: /);
    expect(JSON.parse((await api("/api/hosts/sim")).text)).toMatchObject({ reachable: "no" });
    const status = await json(["provider", "status", "deepseek"]);
    expect(status.body.hosts[0]).toMatchObject({
      host_reachable: "no",
      health: { state: "unknown", code: "host_unreachable" },
    });
    const metrics = (await api("/metrics")).text;
    expect(sample(metrics, "relay_host_reachable", { host: "sim" })).toBe(0);
    expect(sample(metrics, "relay_provider_health", { host: "sim", health: "unknown" })).toBe(1);
  });

  it("the scheduler's tick probes first: a host that stops answering is unreachable after one tick, and back after the next", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    await runReconcileTick(w.t.ctx);
    const reachable = async () => JSON.parse((await api("/api/hosts/sim")).text).reachable as string;
    expect(await reachable()).toBe("yes");
    // The host stops answering (the simulator drops every connection unanswered).
    w.sim.sim.options.faults = { resetRate: 1 };
    await runReconcileTick(w.t.ctx);
    expect(await reachable()).toBe("no");
    w.sim.sim.options.faults = {};
    await runReconcileTick(w.t.ctx);
    expect(await reachable()).toBe("yes");
  });
});
