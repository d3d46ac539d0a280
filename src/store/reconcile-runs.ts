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
