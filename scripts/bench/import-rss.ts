/**
 * Child of the import bench, in a fresh process.
 * - `import-rss.js prepare`: installs the pack and adds the host into RELAY_DB_PATH (host from
 *   BENCH_HOST_URL / BENCH_ADMIN_KEY), as an operator does before importing;
 * - `import-rss.js`: one import of 5,000 keys at 0 ms latency, the pack installed by another
 *   process as above, then the process's peak resident set (MB) as one JSON line on stdout.
 */
import { benchImportOnce, prepareDatabase } from "./import.js";

if (process.argv[2] === "prepare") {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  await prepareDatabase(env, env.BENCH_HOST_URL ?? "", env.BENCH_ADMIN_KEY ?? "");
} else {
  const r = await benchImportOnce(0, 5000, true);
  console.log(JSON.stringify({ peakRssMb: process.resourceUsage().maxRSS / 1024, wallMs: r.wallMs }));
}
