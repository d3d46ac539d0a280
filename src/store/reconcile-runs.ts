import { sql } from "kysely";
import type { Finding, ReconcileOutcome, ReconcileTrigger } from "../domain/drift.js";
import { nowIso, type StoreContext, write } from "./db.js";
import type { Row } from "./schema.js";

export type ReconcileRunRow = Row<"reconcile_runs">;

export async function openRun(
  s: StoreContext,
  r: { hostId: string; providerId: string; trigger: ReconcileTrigger; previousStatus: string },
): Promise<number> {
  const row = await write(s, (q) =>
    q
      .insertInto("reconcile_runs")
      .values({ ...r, outcome: "running", findings: [], hostCalls: 0, startedAt: nowIso(s) })
      .returning("id")
      .executeTakeFirstOrThrow(),
  );
  return row.id;
}

export async function finishRun(
  s: StoreContext,
  id: number,
  r: {
    outcome: ReconcileOutcome;
    newStatus: string | null;
    findings: Finding[];
    hostCalls: number;
    durationMs: number;
  },
): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("reconcile_runs")
      .set({ ...r, finishedAt: nowIso(s) })
      .where("id", "=", id)
      .execute(),
  );
}

/** A run that never started (the provider was busy and the caller was told so): no trace. */
export async function discardRun(s: StoreContext, id: number): Promise<void> {
  await write(s, (q) => q.deleteFrom("reconcile_runs").where("id", "=", id).execute());
}

/** Host ids of the accounts that failed their test in the latest finished run before `runId`. */
export async function accountsFailingBefore(
  s: StoreContext,
  hostId: string,
  providerId: string,
  runId: number,
): Promise<Set<number>> {
  const row = await s.db.q
    .selectFrom("reconcile_runs")
    .select("findings")
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("id", "<", runId)
    .where("outcome", "not in", ["running", "skipped"])
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  const findings = row?.findings ?? [];
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
export async function reconcileTimesByHost(
  db: StoreContext["db"],
): Promise<{ host: string; lastRun: number | null; lastSuccess: number | null }[]> {
  const { rows } = await sql<{
    host: string;
    lastRun: string | null;
    lastSuccess: string | null;
  }>`SELECT h.name AS host, max(r.finished_at) AS last_run,
            max(CASE WHEN r.outcome IN ('ok', 'drift', 'degraded') THEN r.finished_at END) AS last_success
       FROM reconcile_runs r JOIN hosts h ON h.id = r.host_id
      WHERE r.finished_at IS NOT NULL AND r.outcome NOT IN ('running', 'skipped')
      GROUP BY h.name`.execute(db.q);
  const ms = (t: string | null) => (t === null ? null : Date.parse(t));
  return rows.map((r) => ({ host: r.host, lastRun: ms(r.lastRun), lastSuccess: ms(r.lastSuccess) }));
}
