/**
 * Start-up, as ratios measured in the same run (issue "Performance"):
 * - `relay --help` against `node -e 0` (target ≤ 2.5×);
 * - `relay serve` answering `/readyz` against a bare `node:http` server answering its first
 *   request (target ≤ 4×).
 * Each side is the median of several fresh processes, run alternately so drift hits both.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/util/paths.js";
import type { BenchResult } from "./packs.js";

const RUNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function timeProcess(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return performance.now() - t0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `url` answers 200 (polled every 2 ms); throws after 20 s. */
export async function waitForOk(url: string): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 20_000) throw new Error(`${url} never answered`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Milliseconds from spawn until `url` answers 200; the process is then stopped. */
async function timeUntilReady(args: string[], env: NodeJS.ProcessEnv, url: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: "ignore" });
  try {
    await waitForOk(url);
    return performance.now() - t0;
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
  }
}

const BARE_SERVER =
  "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')";

export async function benchStartup(): Promise<BenchResult[]> {
  const bin = join(projectRoot(), "dist", "bin", "relay.mjs");
  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    help.push(timeProcess([bin, "--help"]));
    bare.push(timeProcess(["-e", "0"]));
  }
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-serve-"));
  const serve: number[] = [];
  const http: number[] = [];
  try {
    const env = {
      ...process.env,
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_API_TOKEN: "bench-token-0123456789abcdef",
      RELAY_LOG_LEVEL: "silent",
    };
    // The first start creates and migrates the database; a replica's start meets an existing one.
    const first = await freePort();
    await timeUntilReady(
      [bin, "serve"],
      { ...env, RELAY_LISTEN: `127.0.0.1:${first}` },
      `http://127.0.0.1:${first}/readyz`,
    );
    for (let i = 0; i < RUNS; i++) {
      const a = await freePort();
      serve.push(
        await timeUntilReady(
          [bin, "serve"],
          { ...env, RELAY_LISTEN: `127.0.0.1:${a}` },
          `http://127.0.0.1:${a}/readyz`,
        ),
      );
      const b = await freePort();
      http.push(
        await timeUntilReady(
          ["-e", BARE_SERVER],
          { ...process.env, PORT: String(b) },
          `http://127.0.0.1:${b}/`,
        ),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const helpRatio = median(help) / median(bare);
  const serveRatio = median(serve) / median(http);
  return [
    {
      name: `relay --help (${median(help).toFixed(0)} ms) / node -e 0 (${median(bare).toFixed(0)} ms)`,
      value: helpRatio,
      unit: "×",
      target: 2.5,
      ok: helpRatio <= 2.5,
    },
    {
      name: `relay serve ready (${median(serve).toFixed(0)} ms) / bare node:http (${median(http).toFixed(0)} ms)`,
      value: serveRatio,
      unit: "×",
      target: 4,
      ok: serveRatio <= 4,
    },
  ];
}
