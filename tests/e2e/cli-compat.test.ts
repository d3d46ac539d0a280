import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import { runRelay } from "../helpers/cli.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";
import { deepseekKey } from "../helpers/world.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

let t: TestEnv | undefined;
let s: RunningSim | undefined;
afterEach(async () => {
  await s?.close();
  await t?.cleanup();
});

// The acceptance: on these builds `relay host add` says which providers cannot be served
// and why, and `relay provider import` exits non-zero having made no host write.
describe("relay on builds that cannot serve a provider", () => {
  it.each([
    [
      "dec-2025",
      /✗ deepseek: cannot be served — the host has no \/v1\/chat\/completions.*\(works from 0\.1\.130\)/,
    ],
    [
      "v0.1.126",
      /✗ deepseek: cannot be served — sub2api 0\.1\.126 has no deepseek platform.*\(works from 0\.1\.130\)/,
    ],
  ] as const)("%s", async (profile, line) => {
    t = await makeTestEnv();
    s = await startSimulator({ profile });
    const env = t.env;
    const adminKey = join(t.dir, "admin.key");
    writeFileSync(adminKey, `${s.sim.state.adminApiKey}\n`, { mode: 0o600 });
    expect(
      (await runRelay(["pack", "install", join(projectRoot(), "packs", "openai-cn-pack")], { env })).code,
    ).toBe(0);

    const add = await runRelay(
      ["host", "add", "--name", "old", "--base-url", s.url, "--admin-key-file", adminKey],
      { env },
    );
    expect(add.stdout).toMatch(line);
    expect(add.stdout).toMatch(/providers of the installed packs on this build:/);

    const keys = join(t.dir, "keys.txt");
    writeFileSync(keys, `${deepseekKey()}\n`);
    const writesBefore = s.sim.writes.length;
    const imp = await runRelay(
      ["provider", "import", "deepseek", "--host", "old", "--keys-file", keys, "--mode", "strict", "--yes"],
      { env },
    );
    expect(imp.code).not.toBe(0);
    expect(imp.stderr).toMatch(/cannot serve deepseek/);
    expect(imp.stderr).toMatch(/Upgrade sub2api to 0\.1\.130 or later/);
    expect(s.sim.writes.slice(writesBefore)).toEqual([]);
    expect(s.sim.state.liveAccounts()).toEqual([]);
  });
});
