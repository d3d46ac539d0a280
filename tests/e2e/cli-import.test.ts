import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { rowCount, storedBytes } from "../helpers/context.js";
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
      [
        "provider",
        "preview",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        file,
        "--mode",
        "partial",
        "--subscribe",
        "1:7",
      ],
      { env: w.t.env },
    );
    outputs.push(preview.stdout, preview.stderr);
    // "preview's `7 create` omits subscription rows": targets have their own summary line.
    expect(preview.stdout).toMatch(/1 subscription target\(s\): 1 assign, 0 already subscribed/);
    expect(preview.code).toBe(0); // a plan, changes or not: 2 only with --detailed-exitcode
    expect(preview.stdout).toMatch(/group\s+relay-deepseek-[0-9a-f]{8}-g1\s+create/);
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
    expect(result.keys.find((k: { status: string }) => k.status === "failed").line).toBe(3);

    const list = await runRelay(["batch", "list", "--provider", "deepseek"], { env: w.t.env });
    outputs.push(list.stdout);
    expect(list.stdout).toMatch(
      new RegExp(`^${result.batch_id}\\s+deepseek\\s+sim\\s+import\\s+partial\\s`, "m"),
    );
    const show = await runRelay(["batch", "show", result.batch_id], { env: w.t.env });
    outputs.push(show.stdout);
    // The host by name; the failed key by its line in the key file; the reason fitted to 100 columns.
    expect(show.stdout).toMatch(/^host:\s+sim \(/m);
    expect(show.stdout).toMatch(
      new RegExp(`^3\\s+sk-…${bad.slice(-4)}\\s+failed\\s+KEY_REFUSED_BY_UPSTREAM: `, "m"),
    );
    for (const line of show.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
    // The whole reason is under --json.
    const shown = await runRelay(["--json", "batch", "show", result.batch_id], { env: w.t.env });
    expect(JSON.parse(shown.stdout)).toMatchObject({ host_name: "sim" });
    expect(shown.stdout).toMatch(/KEY_REFUSED_BY_UPSTREAM.*HTTP 401/);

    const rb = await runRelay(["--json", "batch", "rollback", result.batch_id, "--yes"], { env: w.t.env });
    outputs.push(rb.stdout, rb.stderr);
    expect(rb.code).toBe(0);
    expect(JSON.parse(rb.stdout).status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);

    // No output and no byte of the state file holds a key.
    const db = await storedBytes(w.t);
    for (const key of [a, b, bad]) {
      for (const out of outputs) expect(out).not.toContain(key);
      expect(db.includes(Buffer.from(key))).toBe(false);
      expect(db.includes(Buffer.from(key.slice(3)))).toBe(false);
    }
  });

  it("strict failure exits 1; a second import while one runs exits 4; no confirmation without --yes exits 1", async () => {
    w = await makeWorld();
    // The first import's account creates wait until the second import has been refused: the two
    // overlap by construction, not by the machine's speed.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    w.sim.sim.options.faults = { hold: () => held, match: /^POST .*\/admin\/accounts/ };
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
      { env: { ...w.t.env, RELAY_HOST_TIMEOUT_MS: "300000" }, timeoutMs: 300_000 },
    );
    // Wait until the first import holds the provider lock (bounded polling on the condition).
    const deadline = Date.now() + 60_000;
    while ((await rowCount(w.t.ctx, "locks")) === 0) {
      if (Date.now() > deadline) throw new Error("the first import never took the provider lock");
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
    release();
    w.sim.sim.options.faults = {};
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
