import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { checkConsistency } from "../helpers/invariants.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

function keyFile(keys: string[]): string {
  const path = join(w.t.dir, `keys-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(path, `${keys.join("\n")}\n`);
  return path;
}

describe("relay provider preview|import and relay batch", () => {
  it("previews, imports partially (exit 3), lists, shows and rolls back — never printing a key", async () => {
    w = await makeWorld();
    const [a, b, bad] = [deepseekKey(), deepseekKey(), deepseekKey()];
    w.sim.sim.upstream.revoke(bad);
    const file = keyFile([a, b, bad]);
    const outputs: string[] = [];

    const preview = await runRelay(
      ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", file, "--mode", "partial"],
      { env: w.t.env },
    );
    outputs.push(preview.stdout, preview.stderr);
    expect(preview.code).toBe(2); // changes pending
    expect(preview.stdout).toMatch(/group\s+relay-deepseek-g1\s+create/);
    expect(preview.stdout).toMatch(/3 key\(s\): 5 create/);

    const imp = await runRelay(
      [
        "--json",
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        file,
        "--mode",
        "partial",
        "--subscribe",
        "1:7",
        "--yes",
      ],
      { env: w.t.env },
    );
    outputs.push(imp.stdout, imp.stderr);
    expect(imp.code).toBe(3);
    const result = JSON.parse(imp.stdout);
    expect(result.status).toBe("partially_succeeded");
    expect(result.keys.find((k: { status: string }) => k.status === "failed").key).toBe(
      `sk-…${bad.slice(-4)}`,
    );

    const list = await runRelay(["batch", "list", "--provider", "deepseek"], { env: w.t.env });
    outputs.push(list.stdout);
    expect(list.stdout).toContain(result.batch_id);
    const show = await runRelay(["batch", "show", result.batch_id], { env: w.t.env });
    outputs.push(show.stdout);
    expect(show.stdout).toMatch(/ACCOUNT_TEST_FAILED: API returned 401/);

    const rb = await runRelay(["--json", "batch", "rollback", result.batch_id], { env: w.t.env });
    outputs.push(rb.stdout, rb.stderr);
    expect(rb.code).toBe(0);
    expect(JSON.parse(rb.stdout).status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);

    // No output and no byte of the state file holds a key.
    w.t.ctx.db.$client.pragma("wal_checkpoint(TRUNCATE)");
    const db = readFileSync(w.t.dbPath);
    for (const key of [a, b, bad]) {
      for (const out of outputs) expect(out).not.toContain(key);
      expect(db.includes(Buffer.from(key))).toBe(false);
      expect(db.includes(Buffer.from(key.slice(3)))).toBe(false);
    }
  });

  it("strict failure exits 1; a second import while one runs exits 4; no confirmation without --yes exits 1", async () => {
    w = await makeWorld();
    w.sim.sim.options.faults = { latencyMs: 60 };
    const bad = deepseekKey();
    w.sim.sim.upstream.revoke(bad);
    const slow = runRelay(
      [
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keyFile([deepseekKey(), bad]),
        "--mode",
        "strict",
        "--yes",
      ],
      { env: w.t.env },
    );
    // Wait until the first import holds the provider lock.
    for (let i = 0; i < 200; i++) {
      if ((w.t.ctx.db.$client.prepare("SELECT count(*) AS n FROM locks").get() as { n: number }).n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await runRelay(
      [
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keyFile([deepseekKey()]),
        "--mode",
        "strict",
        "--yes",
      ],
      { env: w.t.env },
    );
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/already running/);
    const first = await slow;
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/ROLLED_BACK/);
    expect(liveCount(w.sim)).toBe(0);

    const noYes = await runRelay(
      [
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keyFile([deepseekKey()]),
        "--mode",
        "strict",
      ],
      { env: w.t.env },
    );
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toMatch(/add --yes/);
  });

  it("reads keys from stdin with --keys-file -", async () => {
    w = await makeWorld();
    const r = await runRelay(
      [
        "--json",
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        "-",
        "--mode",
        "strict",
        "--yes",
      ],
      {
        env: w.t.env,
        input: `${deepseekKey()}\n`,
      },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe("succeeded");
  });
});

/** A seeded PRNG so a failing kill point can be replayed. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function crashRuns(world: World, runs: number, seed: number) {
  const random = mulberry32(seed);
  const results: { delay: number; mode: string; killed: boolean }[] = [];
  for (let i = 0; i < runs; i++) {
    const mode = random() < 0.5 ? "strict" : "partial";
    const keys = Array.from({ length: 4 }, () => deepseekKey());
    if (random() < 0.3 && keys[0]) world.sim.sim.upstream.revoke(keys[0]);
    const delay = 200 + Math.floor(random() * 900);
    const { spawn } = await import("node:child_process");
    const { RELAY_BIN } = await import("../helpers/cli.js");
    const file = join(world.t.dir, `crash-${i}.keys`);
    writeFileSync(file, keys.join("\n"));
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
        file,
        "--mode",
        mode,
        "--yes",
      ],
      {
        env: { ...world.t.env, PATH: process.env.PATH ?? "" },
        stdio: "ignore",
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const timer = setTimeout(() => child.kill("SIGKILL"), delay);
    const code = await exited;
    clearTimeout(timer);
    results.push({ delay, mode, killed: code === null });
    const recover = await runRelay(["--json", "batch", "recover"], { env: world.t.env });
    if (recover.code !== 0)
      throw new Error(`recovery failed after run ${i} (seed ${seed}): ${recover.stdout} ${recover.stderr}`);
    const c = checkConsistency(world.t.ctx, world.sim);
    if (c.orphans.length + c.lostBatches.length + c.unfinished.length > 0) {
      throw new Error(`run ${i} (seed ${seed}, ${mode}, kill after ${delay} ms): ${JSON.stringify(c)}`);
    }
  }
  return results;
}

describe("crash recovery", () => {
  it("an import killed at seeded random points recovers with no orphan, no lost record, no unfinished batch", async () => {
    w = await makeWorld({ faults: { latencyMs: 8 } });
    const results = await crashRuns(w, 10, 20261121);
    expect(results.filter((r) => r.killed).length).toBeGreaterThan(3);
    const c = checkConsistency(w.t.ctx, w.sim);
    expect(c).toEqual({ orphans: [], lostBatches: [], unfinished: [], phantoms: [] });
  }, 120_000);
});
