import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

// util-linux's `script` gives the CLI a real pseudo-terminal (stdin, stdout and stderr all TTYs).
const hasScript = spawnSync("script", ["--version"]).status === 0;
if (!hasScript) console.error("SKIPPED: no `script` (util-linux) on this machine; the pty test cannot run");

/** Runs the built CLI under a pseudo-terminal 100 columns wide; all it printed, as the terminal got it. */
function runInPty(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const quoted = [process.execPath, RELAY_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", `stty cols 100 rows 40; exec ${quoted}`, "/dev/null"], {
      env: { PATH: process.env.PATH ?? "", TERM: "xterm", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end();
  });
}

function keysFile(keys: string[]): string {
  const path = join(w.t.dir, "many.keys");
  writeFileSync(path, `# 300 keys\n${keys.join("\n")}\n`);
  return path;
}

describe("output for people: a 300-key import (issue #25 item 6)", () => {
  it.skipIf(!hasScript)(
    "on a terminal: one progress line redrawn in place, then a summary and the failures only, by line",
    async () => {
      w = await makeWorld();
      const keys = Array.from({ length: 300 }, () => deepseekKey());
      const revoked = [keys[9], keys[199]] as string[];
      for (const k of revoked) w.sim.sim.upstream.revoke(k);
      const file = keysFile(keys);
      const r = await runInPty(
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
          "--yes",
        ],
        w.t.env,
      );
      expect(r.code, r.out).toBe(3);
      // Lines as the terminal shows them: a redraw (carriage return, cursor moves) is not a new line.
      const lines = r.out.split(/\r?\n/).filter((l) => l.trim() !== "");
      expect(lines.length, r.out).toBeLessThanOrEqual(30);
      expect(r.out).toMatch(/300 key\(s\): 298 working/);
      // The two revoked keys by their line in the file (line 1 is the comment), masked, and nothing else.
      expect(r.out).toMatch(new RegExp(`\\n11\\s+sk-…${revoked[0]?.slice(-4)}\\s+failed`));
      expect(r.out).toMatch(new RegExp(`\\n201\\s+sk-…${revoked[1]?.slice(-4)}\\s+failed`));
      expect(r.out.match(/\s(tested|created)\s/g) ?? []).toHaveLength(0);
      for (const k of keys) expect(r.out).not.toContain(k.slice(3));
    },
    300_000,
  );

  it("not on a terminal: a bounded number of progress lines on stderr, by work done", async () => {
    w = await makeWorld();
    const keys = Array.from({ length: 300 }, () => deepseekKey());
    const r = await runRelay(
      [
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keysFile(keys),
        "--mode",
        "partial",
        "--yes",
      ],
      { env: w.t.env, timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines.length, r.stderr).toBeLessThanOrEqual(60);
    expect(r.stderr).toMatch(/accounts: 300\/300 \(100%\)/);
    expect(r.stdout).toMatch(/300 key\(s\): 300 working/);
    expect(r.stdout.split("\n").length).toBeLessThanOrEqual(20);
  }, 300_000);

  it("a blocked import prints its reason and the command to run, not the whole plan", async () => {
    w = await makeWorld();
    const file = keysFile([deepseekKey()]);
    const args = ["provider", "import", "deepseek", "--host", "sim", "--keys-file", file, "--mode", "strict"];
    const r = await runRelay([...args, "--subscribe", "999999", "--yes"], { env: w.t.env });
    expect(r.code).toBe(4);
    // Progress lines (indented) aside, the refusal is three lines.
    const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("  "));
    expect(lines[0]).toMatch(/^error: the import cannot run: .*999999/);
    expect(lines[1]).toBe(
      "hint: Run `relay provider preview deepseek --host sim --keys-file FILE --mode strict` to see each conflict.",
    );
    expect(lines[2]).toBe("details: run the same command with --json to see them in full");
    expect(lines).toHaveLength(3);
    // The plan is still there for machines.
    const json = await runRelay(["--json", ...args, "--subscribe", "999999", "--yes"], { env: w.t.env });
    expect(JSON.parse(json.stdout).error.details.plan.fingerprint).toMatch(/\S/);
  }, 120_000);
});
