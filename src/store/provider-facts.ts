import { CompiledQuery, type RawBuilder, sql } from "kysely";
import type { AccessState } from "../domain/access.js";
import type { Finding } from "../domain/drift.js";
import { LIVE_STATES } from "../domain/resources.js";
import type { BatchStatus, ProviderFacts } from "../domain/status.js";
import type { StoreContext } from "./db.js";
import type { Row } from "./schema.js";
import { stored } from "./values.js";

/** The event a failed host probe leaves (its reachability is read from the newest one). */
export const HOST_PROBE_FAILED = "host_probe_failed";

/** Reconcile outcomes whose findings describe the host (an aborted run's do not). */
const FINDING_OUTCOMES = ["ok", "drift", "degraded"];

/**
 * One install (a provider on a host) with everything its status, axes and reachability are
 * decided from, read in one statement: the host, its newest failed probe, the provider's live
 * groups and accounts, its newest batch, the newest batch whose rollback left resources, the
 * newest gateway proof, the newest reconcile run and the newest one with findings.
 * Result columns are camelCased by the store (CamelCasePlugin); JSON columns come as text.
 */
export interface ProviderFactsRow {
  installId: number;
  hostId: string;
  hostName: string;
  hostLastProbedAt: string | null;
  status: string;
  statusReason: string;
  statusChangedAt: string;
  accessState: string;
  generation: number;
  lastReconcileAt: string | null;
  probeFailedAt: string | null;
  probeFailedMessage: string | null;
  probeFailedData: string | null;
  liveGroups: number;
  liveAccounts: number;
  /** Live groups' host ids, comma-separated, and how many of them have one. */
  liveGroupIds: string | null;
  liveGroupsWithId: number;
  liveGroupsSince: string | null;
  lastBatchId: string | null;
  lastBatchStatus: string | null;
  lastBatchReason: string | null;
  lastBatchUpdatedAt: string | null;
  lastBatchImportFailed: number;
  unfinishedRollback: string | null;
  proofState: string | null;
  proofReason: string | null;
  proofEvidence: string | null;
  proofCreatedAt: string | null;
  runId: number | null;
  runTrigger: string | null;
  runOutcome: string | null;
  runStartedAt: string | null;
  runDurationMs: number | null;
  runHostCalls: number | null;
  runFindings: string | null;
  findingsRunId: number | null;
  findingsRunFinishedAt: string | null;
  findingsRunFindings: string | null;
}

/**
 * The facts rows of a provider on every host (or the one whose id or name is `hostRef`), or of one
 * install (`installId`), ordered by install. Each part is an indexed lookup of the install's host
 * and provider; the status endpoint, polled by dashboards and scripts, runs this one statement.
 */
export async function providerFactsRows(
  s: StoreContext,
  providerId: string,
  filter: { hostRef?: string | undefined; installId?: number } = {},
): Promise<ProviderFactsRow[]> {
  const { kind } = s.db;
  const values: Record<string, unknown> = {
    [PROVIDER]: stored(kind, providerId),
    [REF]: stored(kind, filter.hostRef ?? null),
    [INSTALL]: filter.installId ?? null,
  };
  let compiled = compiledByKind.get(s.db.kind);
  if (compiled === undefined) {
    compiled = factsQuery(s.db.kind).compile(s.db.q);
    compiledByKind.set(s.db.kind, compiled);
  }
  const parameters = compiled.parameters.map((p) => (typeof p === "string" && p in values ? values[p] : p));
  const { rows } = await s.db.q.executeQuery<ProviderFactsRow>(CompiledQuery.raw(compiled.sql, parameters));
  return rows;
}

/*
 * The statement is compiled once per engine (its text does not change), with placeholders where
 * the request's values go; each read binds them. Compiling it was most of the read's cost.
 */
const PROVIDER = "\u0001relay:provider";
const REF = "\u0001relay:ref";
const INSTALL = "\u0001relay:install";
const compiledByKind = new Map<string, CompiledQuery<ProviderFactsRow>>();

function factsQuery(kind: string): RawBuilder<ProviderFactsRow> {
  const providerId = PROVIDER;
  const ref = REF;
  const installId = INSTALL;
  const live = sql.join(LIVE_STATES.map((state) => sql`${state}`));
  const ids =
    kind === "sqlite"
      ? sql`group_concat(CAST(m.host_resource_id AS TEXT), ',')`
      : sql`string_agg(CAST(m.host_resource_id AS TEXT), ',')`;
  const ofInstall = (alias: string) =>
    sql`${sql.ref(`${alias}.host_id`)} = i.host_id AND ${sql.ref(`${alias}.provider_id`)} = i.provider_id`;
  const liveOf = (type: string) => sql`FROM managed_resources m
     WHERE ${ofInstall("m")} AND m.resource_type = ${type} AND m.state IN (${live})`;
  return sql<ProviderFactsRow>`SELECT i.id AS install_id, i.host_id, h.name AS host_name,
        h.last_probed_at AS host_last_probed_at, i.status, i.status_reason, i.status_changed_at,
        i.access_state, i.generation, i.last_reconcile_at,
        e.at AS probe_failed_at, e.message AS probe_failed_message, e.data AS probe_failed_data,
        (SELECT count(*) ${liveOf("group")}) AS live_groups,
        (SELECT count(*) ${liveOf("account")}) AS live_accounts,
        (SELECT ${ids} ${liveOf("group")}) AS live_group_ids,
        (SELECT count(m.host_resource_id) ${liveOf("group")}) AS live_groups_with_id,
        (SELECT min(m.updated_at) ${liveOf("group")}) AS live_groups_since,
        b.id AS last_batch_id, b.status AS last_batch_status, b.status_reason AS last_batch_reason,
        b.updated_at AS last_batch_updated_at,
        CASE WHEN EXISTS (SELECT 1 FROM events f WHERE f.batch_id = b.id AND f.kind = ${"import_failed"})
          THEN 1 ELSE 0 END AS last_batch_import_failed,
        (SELECT u.id FROM import_batches u
          WHERE ${ofInstall("u")} AND u.status = ${"failed"} AND EXISTS (
            SELECT 1 FROM managed_resources m WHERE m.batch_id = u.id AND ${ofInstall("m")}
               AND m.origin = ${"created"} AND m.state IN (${live}))
          ORDER BY u.created_at DESC, u.id DESC LIMIT 1) AS unfinished_rollback,
        a.state AS proof_state, a.reason AS proof_reason, a.evidence AS proof_evidence,
        a.created_at AS proof_created_at,
        r.id AS run_id, r.trigger AS run_trigger, r.outcome AS run_outcome, r.started_at AS run_started_at,
        r.duration_ms AS run_duration_ms, r.host_calls AS run_host_calls, r.findings AS run_findings,
        o.id AS findings_run_id, o.finished_at AS findings_run_finished_at,
        o.findings AS findings_run_findings
       FROM provider_installs i
       JOIN hosts h ON h.id = i.host_id
       LEFT JOIN events e ON e.id = (
         SELECT max(x.id) FROM events x WHERE x.host_id = i.host_id AND x.kind = ${HOST_PROBE_FAILED})
       LEFT JOIN import_batches b ON b.id = (
         SELECT y.id FROM import_batches y WHERE ${ofInstall("y")} ORDER BY y.created_at DESC, y.id DESC LIMIT 1)
       LEFT JOIN access_closure_records a ON a.id = (
         SELECT max(z.id) FROM access_closure_records z WHERE ${ofInstall("z")})
       LEFT JOIN reconcile_runs r ON r.id = (
         SELECT max(w.id) FROM reconcile_runs w WHERE ${ofInstall("w")})
       LEFT JOIN reconcile_runs o ON o.id = (
         SELECT max(v.id) FROM reconcile_runs v
          WHERE ${ofInstall("v")} AND v.outcome IN (${sql.join(FINDING_OUTCOMES.map((x) => sql`${x}`))}))
      WHERE i.provider_id = ${providerId}
        AND (CAST(${ref} AS TEXT) IS NULL OR h.id = ${ref} OR h.name = ${ref})
        AND (CAST(${installId} AS INTEGER) IS NULL OR i.id = ${installId})
      ORDER BY i.id`;
}

const json = <T>(text: string | null, empty: T): T => (text === null ? empty : (JSON.parse(text) as T));

/**
 * What the provider's status is decided from (domain/status.ts), from its facts row; nothing here
 * decides. `install` gives the install's own state when the caller holds it (else the row's).
 */
export function factsFromRow(
  providerId: string,
  row: ProviderFactsRow,
  install?: Pick<Row<"provider_installs">, "status" | "lastReconcileAt">,
): ProviderFacts {
  const groups = Number(row.liveGroups);
  const facts: ProviderFacts = {
    disabled: (install?.status ?? row.status) === "disabled",
    lastReconcileAt: install ? install.lastReconcileAt : row.lastReconcileAt,
    names: { providerId, hostName: row.hostName },
    live: { groups, accounts: Number(row.liveAccounts) },
    ...(row.unfinishedRollback !== null ? { unfinishedRollback: row.unfinishedRollback } : {}),
  };
  if (row.lastBatchId !== null) {
    facts.lastBatch = {
      id: row.lastBatchId,
      status: row.lastBatchStatus as BatchStatus,
      reason: row.lastBatchReason as string,
      importFailed: Number(row.lastBatchImportFailed) === 1,
    };
  }
  if (groups > 0 && row.proofState !== null) {
    // The newest proof counts only if it was made against a live group (not a rolled-back one).
    const groupIds = new Set<number | null>((row.liveGroupIds ?? "").split(",").filter(Boolean).map(Number));
    if (Number(row.liveGroupsWithId) < groups) groupIds.add(null);
    const groupId = json<{ group_id?: number | null }>(row.proofEvidence, {}).group_id;
    const since = row.liveGroupsSince ?? "";
    if (groupId !== undefined ? groupIds.has(groupId) : (row.proofCreatedAt as string) >= since)
      facts.proof = { state: row.proofState as AccessState, reason: row.proofReason as string };
  }
  const finished = row.findingsRunFinishedAt;
  if (finished && (row.lastBatchId === null || finished >= (row.lastBatchUpdatedAt as string)))
    facts.findings = json<Finding[]>(row.findingsRunFindings, []).filter((f) => !f.healed);
  return facts;
}
