import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { row, rowCount, rows } from "../helpers/context.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";

/**
 * R8: a process that lost its lease writes nothing more. An importing CLI is stopped (SIGSTOP)
 * past its lease, recovery rolls its batch back and the host is empty; continued (SIGCONT), the
 * zombie must change nothing — on the host or in the records — and exit non-zero, saying why.
 */
let w: World | undefined;
let zombie: ChildProcess | undefined;
afterEach(async () => {
  zombie?.kill("SIGCONT");
  zombie?.kill("SIGKILL");
  zombie = undefined;
  await w?.close();
  w = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("lease fencing", () => {
  it("an import stopped past its lease and recovered meanwhile changes nothing when continued, and exits non-zero", async () => {
    w = await makeWorld();
    const world = w;
    const env = { PATH: process.env.PATH ?? "", ...world.t.env, RELAY_LEASE_MS: "2000" };
    // The account tests wait until the test lets them go: the import is mid-flight, its accounts made.
    let reached: () => void = () => {};
    const hit = new Promise<void>((r) => {
      reached = r;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    world.sim.sim.options.faults = {
      match: /^POST \/api\/v1\/admin\/accounts\/\d+\/test$/,
      hold: () => {
        reached();
        return held;
      },
    };
    const keys = join(world.t.dir, "keys.txt");
    writeFileSync(keys, `${[deepseekKey(), deepseekKey()].join("\n")}\n`);
    let stderr = "";
    zombie = spawn(
      process.execPath,
      [RELAY_BIN, "provider", "import", "deepseek", "--host", "sim", "--keys-file", keys].concat([
        "--mode",
        "partial",
        "--no-precheck",
        "--yes",
      ]),
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    zombie.stderr?.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => zombie?.once("exit", (code) => r(code)));
    await hit;
    expect(liveCount(world.sim)).toBeGreaterThan(0);

    zombie.kill("SIGSTOP");
    // Bounded polling on the store's own clock: the lease the stopped importer holds has expired.
    const leaseExpired = async () => {
      const lease = await row<{ expiresAt: string }>(
        world.t.ctx,
        sql`SELECT expires_at FROM locks WHERE name LIKE 'provider:%'`,
      );
      return !lease || Date.parse(lease.expiresAt) < Date.now();
    };
    for (let i = 0; i < 600 && !(await leaseExpired()); i++) await sleep(100);
    expect(await leaseExpired()).toBe(true);

    const recovered = await runRelay(["--json", "batch", "recover"], { env });
    expect(recovered.code).toBe(0);
    expect(liveCount(world.sim)).toBe(0);
    const c = world.t.ctx;
    const records = async () => ({
      batches: await rows(c, sql`SELECT id, status, status_reason, updated_at FROM import_batches`),
      items: await rows(c, sql`SELECT raw_key_hash, status, error_code, result FROM import_batch_items`),
      resources: await rows(c, sql`SELECT id, state, host_resource_id FROM managed_resources ORDER BY id`),
      probes: await rowCount(c, "probe_results"),
      events: await rowCount(c, "events"),
    });
    const after = await records();
    expect((after.batches as { status: string }[]).map((b) => b.status)).toEqual(["rolled_back"]);
    const writes = world.sim.sim.writes.length;

    zombie.kill("SIGCONT");
    release();
    const code = await exited;
    zombie = undefined;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/lost its lease/);
    // Judged from the host and the records: nothing changed after recovery.
    expect(liveCount(world.sim)).toBe(0);
    expect(world.sim.sim.writes.slice(writes).filter((x) => !/\/test$/.test(x))).toEqual([]);
    expect(await records()).toEqual(after);
  }, 240_000);
});
