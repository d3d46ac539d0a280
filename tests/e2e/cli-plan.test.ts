import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import type { Json } from "../helpers/json.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

function file(name: string, text: string): string {
  const path = join(w.t.dir, name);
  writeFileSync(path, text);
  return path;
}

// #16: "the plan does not bind", "exit codes" — each test is named after what went wrong before.
describe("plans that bind", () => {
  it("preview --out writes a plan without key material; import --plan applies exactly that plan", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey()];
    const keysFile = file("k.txt", `${keys.join("\n")}\n`);
    const planFile = join(w.t.dir, "plan.json");
    const preview = await runRelay(
      [
        "provider",
        "preview",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keysFile,
        "--mode",
        "partial",
        "--subscribe",
        "1:7",
        "--out",
        planFile,
      ],
      { env: w.t.env },
    );
    expect(preview.code).toBe(0);
    const saved = readFileSync(planFile, "utf8");
    for (const k of keys) expect(saved).not.toContain(k);
    expect(JSON.parse(saved)).toMatchObject({
      kind: "relay.import-plan",
      request: { mode: "partial", subscribe: [{ user_id: 1, days: 7 }] },
    });

    const imp = await runRelay(
      ["--json", "provider", "import", "deepseek", "--plan", planFile, "--keys-file", keysFile, "--yes"],
      {
        env: w.t.env,
      },
    );
    expect(imp.stderr).toBe("");
    expect(imp.code).toBe(0);
    const result = JSON.parse(imp.stdout);
    expect(result.subscriptions).toEqual([expect.objectContaining({ user_id: 1, status: "assigned" })]);
    expect(liveCount(w.sim, result.batch_id)).toBeGreaterThan(0);
  });

  it("the host changed after the preview: import --plan refuses before any write", async () => {
    w = await makeWorld();
    const keysFile = file("k.txt", `${deepseekKey()}\n`);
    const planFile = join(w.t.dir, "plan.json");
    await runRelay(
      ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", keysFile, "--out", planFile],
      { env: w.t.env },
    );
    // Someone creates the group relay planned to create, by hand.
    const planned = JSON.parse(readFileSync(planFile, "utf8")).plan.resources[0].name;
    await fetch(`${w.sim.url}/api/v1/admin/groups`, {
      method: "POST",
      headers: { "x-api-key": w.sim.sim.state.adminApiKey, "content-type": "application/json" },
      body: JSON.stringify({ name: planned, platform: "deepseek", subscription_type: "subscription" }),
    });
    const writes = w.sim.sim.writes.length;
    const imp = await runRelay(
      ["provider", "import", "deepseek", "--plan", planFile, "--keys-file", keysFile, "--yes"],
      { env: w.t.env },
    );
    expect(imp.code).toBe(4);
    expect(imp.stderr).toMatch(/PLAN_STALE|changed since the preview/);
    expect(w.sim.sim.writes.slice(writes)).toEqual([]);
  });

  it("a plan file whose resources[].action was edited was applied: now refused before any write", async () => {
    w = await makeWorld();
    const keysFile = file("k.txt", `${deepseekKey()}\n`);
    const planFile = join(w.t.dir, "plan.json");
    const preview = await runRelay(
      ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", keysFile, "--out", planFile],
      { env: w.t.env },
    );
    expect(preview.code).toBe(0);
    const original = JSON.parse(readFileSync(planFile, "utf8"));
    expect(original.plan.resources[0].action).toBe("create");
    const edits: [string, (f: Json) => void, RegExp][] = [
      ["action", (f) => (f.plan.resources[0].action = "reuse"), /\/resources\/0\/action/],
      ["reason", (f) => (f.plan.keys[0].reason = "looks fine"), /\/keys\/0\/reason/],
      ["request", (f) => (f.request.mode = "partial"), /\/request\/mode/],
    ];
    const writes = w.sim.sim.writes.length;
    for (const [what, edit, where] of edits) {
      const edited = structuredClone(original);
      edit(edited);
      const path = file(`edited-${what}.json`, JSON.stringify(edited));
      const imp = await runRelay(
        ["provider", "import", "deepseek", "--plan", path, "--keys-file", keysFile, "--yes"],
        { env: w.t.env },
      );
      expect(imp.code, what).toBe(1);
      expect(imp.stderr).toMatch(/the plan file was edited/);
      expect(imp.stderr).toMatch(where);
    }
    expect(w.sim.sim.writes.slice(writes)).toEqual([]);
    expect(liveCount(w.sim)).toBe(0);
    // The file as written is still applied.
    const imp = await runRelay(
      ["provider", "import", "deepseek", "--plan", planFile, "--keys-file", keysFile, "--yes"],
      { env: w.t.env },
    );
    expect(imp.code, imp.stderr).toBe(0);
  });

  it("other keys, or a flag that contradicts the plan, are refused", async () => {
    w = await makeWorld();
    const keysFile = file("k.txt", `${deepseekKey()}\n`);
    const planFile = join(w.t.dir, "plan.json");
    await runRelay(
      [
        "provider",
        "preview",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keysFile,
        "--mode",
        "strict",
        "--out",
        planFile,
      ],
      {
        env: w.t.env,
      },
    );
    const otherKeys = file("other.txt", `${deepseekKey()}\n`);
    const stale = await runRelay(
      ["provider", "import", "deepseek", "--plan", planFile, "--keys-file", otherKeys, "--yes"],
      { env: w.t.env },
    );
    expect(stale.code).toBe(4);
    const mismatch = await runRelay(
      [
        "provider",
        "import",
        "deepseek",
        "--plan",
        planFile,
        "--keys-file",
        keysFile,
        "--mode",
        "partial",
        "--yes",
      ],
      { env: w.t.env },
    );
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/--mode "partial" differs from the plan's "strict"/);
    expect(liveCount(w.sim)).toBe(0);
  });
});

describe("exit codes", () => {
  it("preview exits 0 with changes pending unless --detailed-exitcode (then 2)", async () => {
    w = await makeWorld();
    const keysFile = file("k.txt", `${deepseekKey()}\n`);
    const args = ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", keysFile];
    expect((await runRelay(args, { env: w.t.env })).code).toBe(0);
    expect((await runRelay([...args, "--detailed-exitcode"], { env: w.t.env })).code).toBe(2);
  });

  it("a preview where every key is skipped is bad input (exit 1, NO_USABLE_KEY on import), not 'locked or conflict'", async () => {
    w = await makeWorld();
    const keysFile = file("k.txt", "not-a-deepseek-key\nalso-bad\n");
    const preview = await runRelay(
      ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", keysFile],
      { env: w.t.env },
    );
    expect(preview.code).toBe(1);
    const imp = await runRelay(
      [
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keysFile,
        "--mode",
        "partial",
        "--yes",
      ],
      {
        env: w.t.env,
      },
    );
    expect(imp.code).toBe(1);
    expect(imp.stderr).toMatch(/NO_USABLE_KEY|no key in the list can be imported/);
  });
});
