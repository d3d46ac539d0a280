import { afterEach, describe, expect, it } from "vitest";
import { importKeys } from "../../src/provision/import.js";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const relay = (args: string[]) => runRelay(args, { env: w.t.env });
const json = async (args: string[]) => {
  const r = await relay(["--json", ...args]);
  return { code: r.code, stderr: r.stderr, body: JSON.parse(r.stdout) };
};

describe("relay provider policy / release, relay reconcile run --enforce (the CLI as a process)", () => {
  it("observe by default says what it would do; --enforce on pauses; release hands back; bad input is refused", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey(), deepseekKey()];
    await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    const dead = liveOnHost(w.sim).accounts.find((a) => a.credentials.api_key === keys[0]);
    if (!dead) throw new Error("no account");
    w.sim.sim.upstream.failing.set(keys[0] as string, 402);

    const shown = await json(["provider", "policy", "deepseek", "--host", "sim"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.body).toMatchObject({ mode: "observe", fail_after: 3, resume_after: 2, floor: 1 });
    await json(["provider", "policy", "deepseek", "--host", "sim", "--fail-after", "1"]);
    const observed = await relay(["reconcile", "run", "deepseek", "--host", "sim", "--enforce"]);
    expect(observed.stdout).toMatch(/observe mode: nothing written to the host/);
    expect(observed.stdout).toMatch(new RegExp(`would pause\\s+${dead.name} \\(#${dead.id}\\)`));
    expect(liveOnHost(w.sim).accounts.find((a) => a.id === dead.id)?.schedulable).toBe(true);

    const on = await json(["provider", "policy", "deepseek", "--host", "sim", "--enforce", "on"]);
    expect(on.body.mode).toBe("enforce");
    const enforced = await json(["reconcile", "run", "deepseek", "--host", "sim", "--enforce"]);
    expect(enforced.body.policy[0].result.actions).toEqual([
      expect.objectContaining({ action: "pause", account_id: dead.id, done: true }),
    ]);
    expect(liveOnHost(w.sim).accounts.find((a) => a.id === dead.id)?.schedulable).toBe(false);

    const released = await json(["provider", "release", "deepseek", "--host", "sim"]);
    expect(released.code, released.stderr).toBe(0);
    expect(released.body.resumed).toEqual([{ account_id: dead.id, name: dead.name }]);
    expect(liveOnHost(w.sim).accounts.find((a) => a.id === dead.id)?.schedulable).toBe(true);
    expect((await json(["provider", "policy", "deepseek", "--host", "sim"])).body.mode).toBe("observe");

    const bad = await relay(["provider", "policy", "deepseek", "--host", "sim", "--enforce", "maybe"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--enforce takes on or off/);
    const zero = await relay(["provider", "policy", "deepseek", "--host", "sim", "--fail-after", "0"]);
    expect(zero.stderr).toMatch(/whole number from 1 to 100/);
  });
});
