import { sql } from "kysely";
import { nextProviderState, type ProviderFacts, type ProviderState } from "../domain/status.js";
import { type Db, nowIso, type StoreContext, write } from "./db.js";
import { lastAccessRecord } from "./probes.js";
import { liveResources } from "./resources.js";
import type { Row } from "./schema.js";

export type InstallRow = Row<"provider_installs">;

export function getInstall(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<InstallRow | undefined> {
  return s.db.q
    .selectFrom("provider_installs")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .executeTakeFirst();
}

export async function ensureInstall(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<InstallRow> {
  const existing = await getInstall(s, hostId, providerId);
  if (existing) return existing;
  const now = nowIso(s);
  const first = nextProviderState({ disabled: false, live: { groups: 0, accounts: 0 } });
  await write(s, (q) =>
    q
      .insertInto("provider_installs")
      .values({
        hostId,
        providerId,
        status: first.status,
        statusReason: first.reason,
        statusChangedAt: now,
        accessState: first.access,
        accessReason: first.accessReason,
        generation: 1,
        createdAt: now,
        updatedAt: now,
      })
      .execute(),
  );
  return (await getInstall(s, hostId, providerId)) as InstallRow;
}

export async function bumpGeneration(s: StoreContext, hostId: string, providerId: string): Promise<void> {
  const install = await ensureInstall(s, hostId, providerId);
  await write(s, (q) =>
    q
      .updateTable("provider_installs")
      .set({ generation: install.generation + 1, updatedAt: nowIso(s) })
      .where("id", "=", install.id)
      .execute(),
  );
}

export async function markReconciled(s: StoreContext, hostId: string, providerId: string): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("provider_installs")
      .set({ lastReconcileAt: nowIso(s) })
      .where("hostId", "=", hostId)
      .where("providerId", "=", providerId)
      .execute(),
  );
}

/** Every (host, provider) relay has a record of, with its status. */
export function listInstalls(s: StoreContext): Promise<InstallRow[]> {
  return s.db.q.selectFrom("provider_installs").selectAll().orderBy("id").execute();
}

/** Reads what the provider's status is decided from; nothing here decides. */
export async function providerFacts(s: StoreContext, install: InstallRow): Promise<ProviderFacts> {
  const { hostId, providerId } = install;
  const { q } = s.db;
  const live = await liveResources(s, hostId, providerId);
  const groups = live.filter((r) => r.resourceType === "group");
  const batches = await q
    .selectFrom("import_batches")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .orderBy("createdAt", "desc")
    .orderBy("id", "desc")
    .execute();
  const last = batches[0];
  const failedWithLeftovers = batches.find(
    (b) => b.status === "failed" && live.some((r) => r.batchId === b.id && r.origin === "created"),
  );
  const host = await q.selectFrom("hosts").select("name").where("id", "=", hostId).executeTakeFirst();
  const facts: ProviderFacts = {
    disabled: install.status === "disabled",
    lastReconcileAt: install.lastReconcileAt,
    ...(host ? { names: { providerId, hostName: host.name } } : {}),
    live: { groups: groups.length, accounts: live.filter((r) => r.resourceType === "account").length },
    ...(failedWithLeftovers ? { unfinishedRollback: failedWithLeftovers.id } : {}),
  };
  if (last) {
    const failure = await q
      .selectFrom("events")
      .select("id")
      .where("batchId", "=", last.id)
      .where("kind", "=", "import_failed")
      .executeTakeFirst();
    facts.lastBatch = {
      id: last.id,
      status: last.status,
      reason: last.statusReason,
      importFailed: !!failure,
    };
  }
  if (groups.length > 0) {
    // The newest proof counts only if it was made against a live group (not a rolled-back one).
    const groupIds = new Set(groups.map((g) => g.hostResourceId));
    const since = groups.map((g) => g.updatedAt).sort()[0] ?? "";
    const proof = await lastAccessRecord(s, hostId, providerId);
    const groupId = proof?.evidence.group_id;
    if (proof && (groupId !== undefined ? groupIds.has(groupId) : proof.createdAt >= since))
      facts.proof = { state: proof.state, reason: proof.reason };
  }
  const run = await q
    .selectFrom("reconcile_runs")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("outcome", "in", ["ok", "drift", "degraded"])
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  if (run?.finishedAt && (!last || run.finishedAt >= last.updatedAt))
    facts.findings = run.findings.filter((f) => !f.healed);
  return facts;
}

/**
 * The one writer of a provider's status and access state: recomputed from stored facts by the
 * domain's decision after every operation. The time of change moves only when the status does.
 */
export async function refreshProviderState(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<ProviderState> {
  const install = await ensureInstall(s, hostId, providerId);
  const next = nextProviderState(await providerFacts(s, install));
  const now = nowIso(s);
  await write(s, (q) =>
    q
      .updateTable("provider_installs")
      .set({
        status: next.status,
        statusReason: next.reason,
        accessState: next.access,
        accessReason: next.accessReason,
        updatedAt: now,
        ...(install.status !== next.status ? { statusChangedAt: now } : {}),
      })
      .where("id", "=", install.id)
      .execute(),
  );
  return next;
}

/** host name, provider, status of every install: the `relay_provider_status` gauge. */
export async function statusByHost(db: Db): Promise<{ host: string; provider: string; status: string }[]> {
  return db.q
    .selectFrom("provider_installs as p")
    .innerJoin("hosts as h", "h.id", "p.hostId")
    .select(["h.name as host", "p.providerId as provider", "p.status"])
    .execute();
}

/** One host's row of a provider's status: its install and its latest reconcile run, if any. */
export interface ProviderStatusRow {
  hostId: string;
  hostName: string;
  status: string;
  statusReason: string;
  statusChangedAt: string;
  accessState: string;
  generation: number;
  runId: number | null;
  runTrigger: string | null;
  runOutcome: string | null;
  runStartedAt: string | null;
  runDurationMs: number | null;
  runHostCalls: number | null;
  /** The run's findings as stored (JSON text). */
  runFindings: string | null;
}

/**
 * A provider's status on every host (or the one whose id or name is `hostRef`), with each host's
 * latest reconcile run, in one statement (the status endpoint is polled by dashboards and scripts).
 * Result columns are camelCased by the store (CamelCasePlugin).
 */
export async function providerStatusRows(
  s: StoreContext,
  providerId: string,
  hostRef?: string,
): Promise<ProviderStatusRow[]> {
  const ref = hostRef ?? null;
  const { rows } =
    await sql<ProviderStatusRow>`SELECT i.host_id, h.name AS host_name, i.status, i.status_reason, i.status_changed_at,
            i.access_state, i.generation, r.id AS run_id, r.trigger AS run_trigger, r.outcome AS run_outcome,
            r.started_at AS run_started_at, r.duration_ms AS run_duration_ms, r.host_calls AS run_host_calls,
            r.findings AS run_findings
       FROM provider_installs i
       JOIN hosts h ON h.id = i.host_id
       LEFT JOIN reconcile_runs r ON r.id = (
         SELECT max(id) FROM reconcile_runs WHERE host_id = i.host_id AND provider_id = i.provider_id)
      WHERE i.provider_id = ${providerId} AND (CAST(${ref} AS TEXT) IS NULL OR h.id = ${ref} OR h.name = ${ref})
      ORDER BY i.id`.execute(s.db.q);
  return rows;
}
