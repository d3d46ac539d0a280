import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { RELAY_BIN } from "../helpers/cli.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";
import { onPostgres } from "../helpers/postgres.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

/**
 * R7: the database goes away under a running `relay serve` (a PostgreSQL restart) and comes back.
 * The process must live through it: /healthz answers, /readyz is 503 meanwhile, and both are
 * well again once the database is back — with no restart of relay.
 */
let t: TestEnv | undefined;
let proxy: TcpProxy | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  await proxy?.close();
  proxy = undefined;
  await t?.cleanup();
  t = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds, failing at once if the process exited and after `limitMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, limitMs = 90_000) {
  const started = Date.now();
  for (;;) {
    if (child?.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `relay serve exited (${child?.exitCode ?? child?.signalCode}) while waiting for ${what}`,
      );
    if (await check()) return;
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

describe.runIf(onPostgres)("relay serve through a database outage (PostgreSQL)", () => {
  it("stays alive: readyz goes 503 while the database is away and 200 when it is back; healthz answers throughout", async () => {
    t = await makeTestEnv();
    const direct = new URL(t.env.RELAY_DATABASE_URL as string);
    proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port) });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let log = "";
    child = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        PATH: process.env.PATH ?? "",
        ...t.env,
        RELAY_DATABASE_URL: proxy.route(direct.toString()),
        RELAY_LISTEN: `127.0.0.1:${port}`,
        RELAY_RECONCILE_CRON: "* * * * * *",
        RELAY_RECONCILE_JITTER_MS: "0",
        RELAY_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (d) => {
      log += d;
    });
    await until("ready", async () => (await statusOf(`${base}/readyz`)) === 200);

    await proxy.cut();
    await until("readyz 503", async () => (await statusOf(`${base}/readyz`)) === 503);
    // The scheduler's heartbeat meets the outage (it runs every few seconds): the process lives on.
    await until("a failed heartbeat", () => /scheduler heartbeat failed/.test(log));
    expect(await statusOf(`${base}/healthz`)).toBe(200);
    expect(await statusOf(`${base}/readyz`)).toBe(503);

    await proxy.restore();
    await until("readyz 200 again", async () => (await statusOf(`${base}/readyz`)) === 200);
    await until("scheduler leadership again", async () => {
      const r = await fetch(`${base}/readyz`);
      return r.ok && ((await r.json()) as { scheduler_leader: boolean }).scheduler_leader;
    });
    expect(child.exitCode).toBeNull();
  }, 240_000);
});
