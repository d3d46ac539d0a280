/** `npm run bench`: every benchmark, with its figure against its target. Exits 1 if one misses. */
import { benchImport } from "./import.js";
import { benchLive } from "./live.js";
import { type BenchResult, benchPacks } from "./packs.js";
import { benchReconcile } from "./reconcile.js";
import { benchStartup } from "./startup.js";
import { benchStatus } from "./status.js";

const results: BenchResult[] = [
  ...(await benchStartup()),
  ...(await benchPacks()),
  ...(await benchImport()),
  ...(await benchReconcile()),
  ...(await benchStatus()),
  ...(await benchLive()),
];
const width = Math.max(...results.map((r) => r.name.length));
for (const r of results) {
  console.log(
    `${r.ok ? "✔" : "✘"} ${r.name.padEnd(width)}  ${r.value.toFixed(2).padStart(9)} ${r.unit.padEnd(3)} (target ${r.atLeast ? "≥" : "≤"} ${r.target} ${r.unit})`,
  );
}
if (results.some((r) => !r.ok)) process.exitCode = 1;
