/**
 * Hot reads: `GET /api/providers/{id}/status` against `GET /healthz` on the same `relay serve`
 * process (target ≥ 0.6× the health check's throughput). The server runs in its own process; the
 * load comes from this one over keep-alive connections, the two endpoints alternately so drift
 * hits both. The provider has a real import behind it (accounts, tests, a reconcile run).
 */

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importKeys } from "../../src/provision/import.js";
import { reconcileAll } from "../../src/reconcile/runner.js";
import { closeDb } from "../../src/store/db.js";
import { projectRoot } from "../../src/util/paths.js";
import { benchContext, prepareDatabase } from "./import.js";
import type { BenchResult } from "./packs.js";
import { startSimProcess } from "./sim.js";
import { freePort, waitForOk } from "./startup.js";

const CONNECTIONS = 32;
const WINDOW_MS = 1500;
const ROUNDS = 3;
const TOKEN = "bench-token-0123456789abcdef";

/** Requests per second `path` answers with 200 over `CONNECTIONS` keep-alive connections. */
async function throughput(port: number, path: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path, agent, headers: { authorization: `Bearer ${TOKEN}` } },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`${path} answered ${res.statusCode}`));
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() - t0 < WINDOW_MS) {
        await one();
        done += 1;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return done / seconds;
}

export async function benchStatus(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-status-"));
  const sim = await startSimProcess();
  const env = {
    RELAY_DB_PATH: join(dir, "relay.db"),
    RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
    RELAY_API_TOKEN: TOKEN,
    RELAY_LOG_LEVEL: "silent",
  };
  let server: ReturnType<typeof spawn> | undefined;
  try {
    await prepareDatabase(env, sim.url, sim.key);
    const ctx = await benchContext(env);
    const keys = Array.from({ length: 40 }, () => `sk-${randomBytes(16).toString("hex")}`);
    await importKeys(ctx, { hostRef: "bench", providerId: "deepseek", keys, mode: "partial" });
    await reconcileAll(ctx, { trigger: "manual" });
    await closeDb(ctx.db);
    const port = await freePort();
    server = spawn(process.execPath, [join(projectRoot(), "dist", "bin", "relay.mjs"), "serve"], {
      env: { ...process.env, ...env, RELAY_LISTEN: `127.0.0.1:${port}` },
      stdio: "ignore",
    });
    await waitForOk(`http://127.0.0.1:${port}/readyz`);
    const status = "/api/providers/deepseek/status?host_id=bench";
    await throughput(port, status); // warm-up: JIT and the statement cache
    const health: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      health.push(await throughput(port, "/healthz"));
      reads.push(await throughput(port, status));
    }
    const best = (xs: number[]) => Math.max(...xs);
    const ratio = best(reads) / best(health);
    return [
      {
        name: `status endpoint (${best(reads).toFixed(0)} req/s) / healthz (${best(health).toFixed(0)} req/s)`,
        value: ratio,
        unit: "×",
        target: 0.6,
        atLeast: true,
        ok: ratio >= 0.6,
      },
    ];
  } finally {
    server?.kill("SIGKILL");
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
