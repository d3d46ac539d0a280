import { ExitCode } from "../../../domain/errors.js";
import { parseRetest } from "../../../domain/retest.js";
import type { ReconcileOptions, ReconcileResult } from "../../../reconcile/runner.js";
import { table } from "../../format.js";

/** `--retest <policy>`: accounts to re-test (shared by `reconcile run` and `provider reconcile`). */
export const RETEST_HELP =
  "accounts to re-test: all (default), failed (those that failed last run), none, or sample:N (N at random plus last run's failures)";

/** The table of reconcile results, then each finding, healing and ignored difference. */
export function renderReconcile(results: ReconcileResult[]): string {
  const lines = [
    table(
      ["PROVIDER", "HOST", "OUTCOME", "HEALTH", "SYNC", "STATUS", "FINDINGS", "RETESTED", "CALLS", "MS"],
      results.map((r) => [
        r.provider_id,
        r.host_name,
        r.outcome,
        r.health ?? "-",
        r.sync ?? "-",
        `${r.previous_status ?? "-"} → ${r.new_status ?? "-"}`,
        r.findings.length,
        `${r.retest.tested} (${r.retest.policy})`,
        r.host_calls,
        r.duration_ms,
      ]),
    ),
  ];
  for (const r of results) {
    for (const f of r.findings) {
      lines.push(`${f.healed ? "✔ healed" : "✗"} ${f.kind.padEnd(15)} ${f.message}`);
      if (f.next_step) lines.push(`  → ${f.next_step}`);
    }
    for (const h of r.healed) lines.push(`  ${h}`);
    if (r.ignored.length > 0)
      lines.push(
        `${r.ignored.length} difference(s) ignored for ${r.provider_id} on ${r.host_name} (RELAY_DRIFT_IGNORE):`,
        ...r.ignored.map(
          (i) =>
            `  ~ ${i.resource_type} ${i.name} (#${i.host_resource_id}): ${i.field} is ${JSON.stringify(i.actual)}, relay set ${JSON.stringify(i.expected)} [${i.rule}]`,
        ),
      );
    if (r.outcome === "error") lines.push(`✗ ${r.provider_id} on ${r.host_name}: ${r.reason}`);
  }
  return lines.join("\n");
}

/** Written whole, then renamed: the textfile collector never reads half a file. */
export async function writeMetricsFile(path: string, text: string) {
  const { renameSync, writeFileSync } = await import("node:fs");
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Across hosts and providers, the most actionable outcome wins: 2 when any provider has drift or
 * degradation (an error elsewhere must not hide it), else 1 when any run failed, else 0. The
 * errors are still in the output (one log line each on stderr, `error` items under --json).
 */
export function exitForReconcile(results: ReconcileResult[]): number {
  if (results.some((r) => r.outcome === "drift" || r.outcome === "degraded")) return ExitCode.drift;
  if (results.some((r) => r.outcome === "error")) return ExitCode.error;
  return ExitCode.ok;
}

export function cliOptions(opts: { heal?: boolean; retest?: string }): ReconcileOptions {
  return {
    trigger: "cli",
    heal: opts.heal === true,
    ...(opts.retest !== undefined ? { retest: parseRetest(opts.retest) } : {}),
  };
}
