import { eq } from "drizzle-orm";
import type { Finding, ReconcileOutcome, ReconcileTrigger } from "../domain/drift.js";
import { nowIso, type StoreContext } from "./db.js";
import { reconcileRuns } from "./schema.js";
import { stmt } from "./statements.js";

export type ReconcileRunRow = typeof reconcileRuns.$inferSelect;

export function openRun(
  s: StoreContext,
  r: { hostId: string; providerId: string; trigger: ReconcileTrigger; previousStatus: string },
): number {
  return s.db
    .insert(reconcileRuns)
    .values({ ...r, outcome: "running", findings: [], hostCalls: 0, startedAt: nowIso(s) })
    .returning({ id: reconcileRuns.id })
    .get().id;
}

export function finishRun(
  s: StoreContext,
  id: number,
  r: {
    outcome: ReconcileOutcome;
    newStatus: string | null;
    findings: Finding[];
    hostCalls: number;
    durationMs: number;
  },
): void {
  s.db
    .update(reconcileRuns)
    .set({ ...r, finishedAt: nowIso(s) })
    .where(eq(reconcileRuns.id, id))
    .run();
}

/** A run that never started (the provider was busy and the caller was told so): no trace. */
export function discardRun(s: StoreContext, id: number): void {
  s.db.delete(reconcileRuns).where(eq(reconcileRuns.id, id)).run();
}

/** Host ids of the accounts that failed their test in the latest finished run before `runId`. */
export function accountsFailingBefore(
  s: StoreContext,
  hostId: string,
  providerId: string,
  runId: number,
): Set<number> {
  const row = stmt(
    s.db.$client,
    `SELECT findings FROM reconcile_runs
      WHERE host_id = ? AND provider_id = ? AND id < ? AND outcome NOT IN ('running', 'skipped')
      ORDER BY id DESC LIMIT 1`,
  ).get(hostId, providerId, runId) as { findings: string } | undefined;
  const findings = row ? (JSON.parse(row.findings) as Finding[]) : [];
  return new Set(
    findings
      .filter((f) => f.kind === "account_failing" && f.host_resource_id !== null)
      .map((f) => f.host_resource_id as number),
  );
}

/**
 * Per host name: when its last reconcile run finished (any outcome but skipped) and its last one
 * without an error — `relay_reconcile_last_{run,success}_timestamp_seconds`. One grouped query.
 */
export function reconcileTimesByHost(
  db: StoreContext["db"],
): { host: string; lastRun: number | null; lastSuccess: number | null }[] {
  const rows = stmt(
    db.$client,
    `SELECT h.name AS host, max(r.finished_at) AS last_run,
            max(CASE WHEN r.outcome IN ('ok', 'drift', 'degraded') THEN r.finished_at END) AS last_success
       FROM reconcile_runs r JOIN hosts h ON h.id = r.host_id
      WHERE r.finished_at IS NOT NULL AND r.outcome NOT IN ('running', 'skipped')
      GROUP BY h.name`,
  ).all() as { host: string; last_run: string | null; last_success: string | null }[];
  const ms = (t: string | null) => (t === null ? null : Date.parse(t));
  return rows.map((r) => ({ host: r.host, lastRun: ms(r.last_run), lastSuccess: ms(r.last_success) }));
}
