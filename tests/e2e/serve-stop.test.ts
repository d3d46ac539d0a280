import { type ChildProcess, spawn } from "node:child_process";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { row, TEST_API_TOKEN } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";

/**
 * R14: SIGTERM drains `relay serve`. An import accepted with 202 before the signal finishes
 * (succeeded, not rolled back as interrupted), new work is refused with 503 meanwhile, readyz is
 * 503, and the process exits 0 once the work is done.
 */
let w: World | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  await w?.close();
  w = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, limitMs = 90_000) {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    if (child?.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `relay serve exited (${child?.exitCode ?? child?.signalCode}) while waiting for ${what}`,
      );
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}

const statusOf = async (url: string) => {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
};

describe("relay serve on SIGTERM", () => {
  it("finishes an accepted 202 import within the grace period, refuses new work meanwhile, exits 0", async () => {
    w = await makeWorld();
    const world = w;
    // Account creates wait until the test lets them go: the import is in flight when the signal comes.
    let reached: () => void = () => {};
    const hit = new Promise<void>((r) => {
      reached = r;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    world.sim.sim.options.faults = {
      match: /^POST \/api\/v1\/admin\/accounts/,
      hold: () => {
        reached();
        return held;
      },
    };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        PATH: process.env.PATH ?? "",
        ...world.t.env,
        RELAY_LISTEN: `127.0.0.1:${port}`,
        RELAY_SHUTDOWN_GRACE_MS: "120000",
      },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((r) => child?.once("exit", (code) => r(code)));
    await until("ready", async () => (await statusOf(`${base}/readyz`)) === 200);
    const importBody = (keys: string[]) => ({
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ host_id: "sim", mode: "strict", precheck: false, keys }),
    });
    const accepted = await fetch(
      `${base}/api/providers/deepseek/import`,
      importBody([deepseekKey(), deepseekKey()]),
    );
    expect(accepted.status).toBe(202);
    const { batch_id } = (await accepted.json()) as { batch_id: string };
    await hit;

    child.kill("SIGTERM");
    await until("readyz 503", async () => (await statusOf(`${base}/readyz`)) === 503);
    const refused = await fetch(`${base}/api/providers/kimi/import`, importBody([deepseekKey()]));
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("SHUTTING_DOWN");
    expect(child.exitCode).toBeNull();

    release();
    expect(await exited).toBe(0);
    const batch = await row<{ status: string }>(
      world.t.ctx,
      sql`SELECT status, status_reason FROM import_batches WHERE id = ${batch_id}`,
    );
    expect(batch?.status).toBe("succeeded");
    expect(liveOnHost(world.sim, batch_id).accounts).toHaveLength(2);
  }, 240_000);

  it("past the grace period it exits 0 and leaves the import to recovery, which rolls it back", async () => {
    w = await makeWorld();
    const world = w;
    let reached: () => void = () => {};
    const hit = new Promise<void>((r) => {
      reached = r;
    });
    // Held for good: the import cannot finish within any grace period.
    world.sim.sim.options.faults = {
      match: /^POST \/api\/v1\/admin\/accounts/,
      hold: () => {
        reached();
        return new Promise(() => {});
      },
    };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        PATH: process.env.PATH ?? "",
        ...world.t.env,
        RELAY_LISTEN: `127.0.0.1:${port}`,
        RELAY_SHUTDOWN_GRACE_MS: "0",
      },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((r) => child?.once("exit", (code) => r(code)));
    await until("ready", async () => (await statusOf(`${base}/readyz`)) === 200);
    const accepted = await fetch(`${base}/api/providers/deepseek/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ host_id: "sim", mode: "strict", precheck: false, keys: [deepseekKey()] }),
    });
    expect(accepted.status).toBe(202);
    const { batch_id } = (await accepted.json()) as { batch_id: string };
    await hit;
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const status = async () =>
      (
        await row<{ status: string }>(
          world.t.ctx,
          sql`SELECT status FROM import_batches WHERE id = ${batch_id}`,
        )
      )?.status;
    expect(await status()).toBe("running");
    const recovered = await runRelay(["batch", "recover"], { env: world.t.env });
    expect(recovered.code).toBe(0);
    expect(await status()).toBe("rolled_back");
    expect(liveCount(world.sim, batch_id)).toBe(0);
  }, 240_000);
});
