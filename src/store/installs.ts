import { and, desc, eq, inArray } from "drizzle-orm";
import { nextProviderState, type ProviderFacts, type ProviderState } from "../domain/status.js";
import { type Db, nowIso, type StoreContext } from "./db.js";
import { lastAccessRecord } from "./probes.js";
import { liveResources } from "./resources.js";
import { events, hosts, importBatches, providerInstalls, reconcileRuns } from "./schema.js";
import { stmt } from "./statements.js";

export type InstallRow = typeof providerInstalls.$inferSelect;

export function getInstall(s: StoreContext, hostId: string, providerId: string): InstallRow | undefined {
  return s.db
    .select()
    .from(providerInstalls)
    .where(and(eq(providerInstalls.hostId, hostId), eq(providerInstalls.providerId, providerId)))
    .get();
}

export function ensureInstall(s: StoreContext, hostId: string, providerId: string): InstallRow {
  const existing = getInstall(s, hostId, providerId);
  if (existing) return existing;
  const now = nowIso(s);
  const first = nextProviderState({ disabled: false, live: { groups: 0, accounts: 0 } });
  s.db
    .insert(providerInstalls)
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
    .run();
  return getInstall(s, hostId, providerId) as InstallRow;
}

export function bumpGeneration(s: StoreContext, hostId: string, providerId: string): void {
  const install = ensureInstall(s, hostId, providerId);
  s.db
    .update(providerInstalls)
    .set({ generation: install.generation + 1, updatedAt: nowIso(s) })
    .where(eq(providerInstalls.id, install.id))
    .run();
}

export function markReconciled(s: StoreContext, hostId: string, providerId: string): void {
  s.db
    .update(providerInstalls)
    .set({ lastReconcileAt: nowIso(s) })
    .where(and(eq(providerInstalls.hostId, hostId), eq(providerInstalls.providerId, providerId)))
    .run();
}

/** Every (host, provider) relay has a record of, with its status. */
export function listInstalls(s: StoreContext): InstallRow[] {
  return s.db.select().from(providerInstalls).orderBy(providerInstalls.id).all();
}

/** Reads what the provider's status is decided from; nothing here decides. */
export function providerFacts(s: StoreContext, install: InstallRow): ProviderFacts {
  const { hostId, providerId } = install;
  const live = liveResources(s, hostId, providerId);
  const groups = live.filter((r) => r.resourceType === "group");
  const batches = s.db
    .select()
    .from(importBatches)
    .where(and(eq(importBatches.hostId, hostId), eq(importBatches.providerId, providerId)))
    .orderBy(desc(importBatches.createdAt), desc(importBatches.id))
    .all();
  const last = batches[0];
  const failedWithLeftovers = batches.find(
    (b) => b.status === "failed" && live.some((r) => r.batchId === b.id && r.origin === "created"),
  );
  const host = s.db.select({ name: hosts.name }).from(hosts).where(eq(hosts.id, hostId)).get();
  const facts: ProviderFacts = {
    disabled: install.status === "disabled",
    lastReconcileAt: install.lastReconcileAt,
    ...(host ? { names: { providerId, hostName: host.name } } : {}),
    live: { groups: groups.length, accounts: live.filter((r) => r.resourceType === "account").length },
    ...(failedWithLeftovers ? { unfinishedRollback: failedWithLeftovers.id } : {}),
  };
  if (last) {
    const importFailed =
      s.db
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.batchId, last.id), eq(events.kind, "import_failed")))
        .get() !== undefined;
    facts.lastBatch = { id: last.id, status: last.status, reason: last.statusReason, importFailed };
  }
  if (groups.length > 0) {
    // The newest proof counts only if it was made against a live group (not a rolled-back one).
    const groupIds = new Set(groups.map((g) => g.hostResourceId));
    const since = groups.map((g) => g.updatedAt).sort()[0] ?? "";
    const proof = lastAccessRecord(s, hostId, providerId);
    const groupId = proof?.evidence.group_id;
    if (proof && (groupId !== undefined ? groupIds.has(groupId) : proof.createdAt >= since))
      facts.proof = { state: proof.state, reason: proof.reason };
  }
  const run = s.db
    .select()
    .from(reconcileRuns)
    .where(
      and(
        eq(reconcileRuns.hostId, hostId),
        eq(reconcileRuns.providerId, providerId),
        inArray(reconcileRuns.outcome, ["ok", "drift", "degraded"]),
      ),
    )
    .orderBy(desc(reconcileRuns.id))
    .limit(1)
    .get();
  if (run?.finishedAt && (!last || run.finishedAt >= last.updatedAt))
    facts.findings = run.findings.filter((f) => !f.healed);
  return facts;
}

/**
 * The one writer of a provider's status and access state: recomputed from stored facts by the
 * domain's decision after every operation. The time of change moves only when the status does.
 */
export function refreshProviderState(s: StoreContext, hostId: string, providerId: string): ProviderState {
  const install = ensureInstall(s, hostId, providerId);
  const next = nextProviderState(providerFacts(s, install));
  const now = nowIso(s);
  s.db
    .update(providerInstalls)
    .set({
      status: next.status,
      statusReason: next.reason,
      accessState: next.access,
      accessReason: next.accessReason,
      updatedAt: now,
      ...(install.status !== next.status ? { statusChangedAt: now } : {}),
    })
    .where(eq(providerInstalls.id, install.id))
    .run();
  return next;
}

/** host name, provider, status of every install: the `relay_provider_status` gauge. */
export function statusByHost(db: Db): { host: string; provider: string; status: string }[] {
  return stmt(
    db.$client,
    "SELECT h.name AS host, p.provider_id AS provider, p.status FROM provider_installs p JOIN hosts h ON h.id = p.host_id",
  ).all() as { host: string; provider: string; status: string }[];
}

/** One host's row of a provider's status: its install and its latest reconcile run, if any. */
export interface ProviderStatusRow {
  host_id: string;
  host_name: string;
  status: string;
  status_reason: string;
  status_changed_at: string;
  access_state: string;
  generation: number;
  run_id: number | null;
  run_trigger: string | null;
  run_outcome: string | null;
  run_started_at: string | null;
  run_duration_ms: number | null;
  run_host_calls: number | null;
  run_findings: string | null;
}

/**
 * A provider's status on every host (or the one whose id or name is `hostRef`), with each host's
 * latest reconcile run, in one prepared statement: the status endpoint is polled by dashboards and
 * scripts, and building the three queries it would otherwise take costs more than running them.
 */
export function providerStatusRows(
  s: StoreContext,
  providerId: string,
  hostRef?: string,
): ProviderStatusRow[] {
  return stmt(
    s.db.$client,
    `SELECT i.host_id, h.name AS host_name, i.status, i.status_reason, i.status_changed_at, i.access_state,
            i.generation, r.id AS run_id, r.trigger AS run_trigger, r.outcome AS run_outcome,
            r.started_at AS run_started_at, r.duration_ms AS run_duration_ms, r.host_calls AS run_host_calls,
            r.findings AS run_findings
       FROM provider_installs i
       JOIN hosts h ON h.id = i.host_id
       LEFT JOIN reconcile_runs r ON r.id = (
         SELECT max(id) FROM reconcile_runs WHERE host_id = i.host_id AND provider_id = i.provider_id)
      WHERE i.provider_id = ? AND (CAST(? AS TEXT) IS NULL OR h.id = ? OR h.name = ?)
      ORDER BY i.id`,
  ).all(providerId, ...Array<string | null>(3).fill(hostRef ?? null)) as ProviderStatusRow[];
}
