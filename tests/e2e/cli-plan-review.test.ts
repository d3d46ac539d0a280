import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

/** The error `--json` prints, and the exit code. */
async function refusal(args: string[], input?: string) {
  const r = await runRelay(["--json", ...args], { env: w.t.env, ...(input ? { input } : {}) });
  const body = JSON.parse(r.stdout) as { error: { code: string; message: string; hint?: string } };
  return { exit: r.code, ...body.error };
}

// The plan-file and confirmation handling preview/import, migrate and rotate share (cli/plan-review.ts).
describe("plan files and confirmations of provider import, migrate and rotate (the CLI as a process)", () => {
  it("keys on standard input need --yes: import and rotate refuse them with that reason", async () => {
    w = await makeWorld();
    const keysFile = join(w.t.dir, "new.keys");
    writeFileSync(keysFile, `${deepseekKey()}\n`);
    const imp = await refusal(
      ["provider", "import", "deepseek", "--host", "sim", "--mode", "strict", "--keys-file", "-"],
      `${deepseekKey()}\n`,
    );
    expect(imp).toMatchObject({
      exit: 1,
      code: "CONFIRMATION_REQUIRED",
      message: "add --yes when the keys come from standard input",
    });
    const rot = await refusal(
      ["provider", "rotate", "deepseek", "--host", "sim", "--keys-file", keysFile, "--old-keys-file", "-"],
      `${deepseekKey()}\n`,
    );
    expect(rot).toMatchObject({
      exit: 1,
      code: "CONFIRMATION_REQUIRED",
      message: "add --yes when the keys come from standard input",
    });
    // Not on a terminal and keys from a file: the general refusal.
    const file = await refusal(["provider", "rotate", "deepseek", "--host", "sim", "--keys-file", keysFile]);
    expect(file).toMatchObject({
      code: "CONFIRMATION_REQUIRED",
      message: "add --yes to run this without an interactive confirmation",
    });
  });

  it("a plan file of another kind, or not JSON, is refused as PLAN_FILE_INVALID with what to do", async () => {
    w = await makeWorld();
    const keysFile = join(w.t.dir, "new.keys");
    writeFileSync(keysFile, `${deepseekKey()}\n`);
    const notJson = join(w.t.dir, "not.json");
    writeFileSync(notJson, "{ nope");
    const rotation = join(w.t.dir, "rotation.json");
    writeFileSync(
      rotation,
      JSON.stringify({ kind: "relay-rotation-plan", version: 1, plan: { fingerprint: "a".repeat(64) } }),
    );
    const nullFile = join(w.t.dir, "null.json");
    writeFileSync(nullFile, "null");

    const rot = await refusal([
      "provider",
      "rotate",
      "deepseek",
      "--keys-file",
      keysFile,
      "--plan",
      notJson,
      "--yes",
    ]);
    expect(rot).toMatchObject({
      exit: 1,
      code: "PLAN_FILE_INVALID",
      message: "cannot use the rotation plan file: it is not JSON",
    });
    expect(rot.hint).toBeUndefined();

    const hint = "Write it with `relay provider migrate PROVIDER --host HOST --plan-out FILE`.";
    const other = await refusal([
      "provider",
      "migrate",
      "deepseek",
      "--host",
      "sim",
      "--plan",
      rotation,
      "--yes",
    ]);
    expect(other).toMatchObject({
      exit: 1,
      code: "PLAN_FILE_INVALID",
      message: "the plan file is not one `relay provider migrate --plan-out` wrote",
      hint,
    });
    for (const path of [notJson, nullFile]) {
      const bad = await refusal([
        "provider",
        "migrate",
        "deepseek",
        "--host",
        "sim",
        "--plan",
        path,
        "--yes",
      ]);
      expect(bad).toMatchObject({ exit: 1, code: "PLAN_FILE_INVALID", hint });
    }
    const migrateNotJson = await refusal([
      "provider",
      "migrate",
      "deepseek",
      "--host",
      "sim",
      "--plan",
      notJson,
      "--yes",
    ]);
    expect(migrateNotJson.message).toBe("cannot use the plan file: it is not JSON");
  });
});
