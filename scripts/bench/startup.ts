/** CLI start-up: `relay --help` as a fresh process, median of 5 (target well under a second). */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../src/util/paths.js";
import type { BenchResult } from "./packs.js";

export function benchStartup(): BenchResult[] {
  const bin = join(projectRoot(), "dist", "cmd", "relay.js");
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`relay --help failed: ${r.stderr}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[2] as number;
  return [
    { name: "relay --help start-up (median of 5)", value: median, unit: "ms", target: 800, ok: median < 800 },
  ];
}
