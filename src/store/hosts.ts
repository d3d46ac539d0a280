import { and, desc, eq, isNull, ne, or } from "drizzle-orm";
import { AppError, notFound } from "../domain/errors.js";
import { LIVE_STATES } from "../domain/resources.js";
import type { HostCapabilities } from "../host/sub2api/index.js";
import { nowIso, type StoreContext } from "./db.js";
import { type CapabilitySnapshotRow, type HostRow, hostCapabilitySnapshots, hosts } from "./schema.js";

export type SnapshotInput = Omit<CapabilitySnapshotRow, "id">;

/** Resolves a host by id or by name. */
export function findHost(s: StoreContext, ref: string): HostRow {
  const row = s.db
    .select()
    .from(hosts)
    .where(or(eq(hosts.id, ref), eq(hosts.name, ref)))
    .get();
  if (!row)
    throw notFound("HOST_NOT_FOUND", `no host "${ref}"`, {
      hint: "List the registered hosts with `relay host list`.",
    });
  return row;
}

export function hostNameTaken(s: StoreContext, name: string): boolean {
  return s.db.select({ id: hosts.id }).from(hosts).where(eq(hosts.name, name)).get() !== undefined;
}

export function listHostRows(s: StoreContext): HostRow[] {
  return s.db.select().from(hosts).orderBy(hosts.name).all();
}

/** A new host and its first capability snapshot, in one transaction. */
export function insertHost(s: StoreContext, row: HostRow, snapshot: SnapshotInput): void {
  s.db.transaction((tx) => {
    tx.insert(hosts).values(row).run();
    tx.insert(hostCapabilitySnapshots).values(snapshot).run();
  });
}

/** A re-probe: the host's version and status move, and a new snapshot is kept beside the old ones. */
export function recordProbe(
  s: StoreContext,
  hostId: string,
  patch: Pick<HostRow, "version" | "status" | "statusReasons">,
  snapshot: SnapshotInput,
): void {
  const now = nowIso(s);
  s.db.transaction((tx) => {
    tx.update(hosts)
      .set({ ...patch, updatedAt: now, lastProbedAt: now })
      .where(eq(hosts.id, hostId))
      .run();
    tx.insert(hostCapabilitySnapshots).values(snapshot).run();
  });
}

/** A probe that found the host answering as before: only the time of the last good probe moves. */
export function markProbeAnswered(s: StoreContext, hostId: string): void {
  s.db
    .update(hosts)
    .set({ lastProbedAt: nowIso(s) })
    .where(eq(hosts.id, hostId))
    .run();
}

export function latestSnapshot(s: StoreContext, hostId: string): CapabilitySnapshotRow | undefined {
  return s.db
    .select()
    .from(hostCapabilitySnapshots)
    .where(eq(hostCapabilitySnapshots.hostId, hostId))
    .orderBy(desc(hostCapabilitySnapshots.id))
    .limit(1)
    .get();
}

export type StoredCapabilities = HostCapabilities & { max_page_size?: number };

/** The capability matrix of a host's latest probe. */
export function latestCapabilities(s: StoreContext, hostId: string): StoredCapabilities {
  const snapshot = latestSnapshot(s, hostId);
  if (!snapshot)
    throw new AppError("internal", "NO_SNAPSHOT", `host ${hostId} has never been probed`, {
      hint: "Run `relay host probe`.",
    });
  return snapshot.capabilities as StoredCapabilities;
}

/** The probe user relay owns (or was given) on a host; the password arrives already sealed. */
export function saveProbeIdentity(
  s: StoreContext,
  hostId: string,
  identity: { email: string; userId: number | null; passwordSealed: string },
): void {
  s.db
    .update(hosts)
    .set({
      probeUserEmail: identity.email,
      probeUserId: identity.userId,
      probePasswordSealed: identity.passwordSealed,
      updatedAt: nowIso(s),
    })
    .where(eq(hosts.id, hostId))
    .run();
}

/**
 * Claims a probe identity before the probe user is created: stores this email and sealed password
 * unless one for the same email is stored already, in one statement, so concurrent callers agree on
 * one password. Returns the sealed password in force.
 */
export function claimProbeIdentity(
  s: StoreContext,
  hostId: string,
  email: string,
  passwordSealed: string,
): string {
  s.db
    .update(hosts)
    .set({
      probeUserEmail: email,
      probePasswordSealed: passwordSealed,
      probeUserId: null,
      updatedAt: nowIso(s),
    })
    .where(and(eq(hosts.id, hostId), or(isNull(hosts.probePasswordSealed), ne(hosts.probeUserEmail, email))))
    .run();
  return findHost(s, hostId).probePasswordSealed as string;
}

/** How many resources relay made are still live on a host, by its records. */
export function liveResourceCount(s: StoreContext, hostId: string): number {
  const row = s.db.$client
    .prepare(
      `SELECT COUNT(*) AS n FROM managed_resources
       WHERE host_id = ? AND state IN (${LIVE_STATES.map(() => "?").join(", ")})`,
    )
    .get(hostId, ...LIVE_STATES) as { n: number };
  return row.n;
}

/** Forgets a host and everything relay recorded about it, in one transaction. Never calls the host. */
export function forgetHost(s: StoreContext, hostId: string): void {
  const db = s.db.$client;
  db.transaction(() => {
    for (const table of [
      "probe_results",
      "access_closure_records",
      "reconcile_runs",
      "events",
      "managed_resources",
      "import_batches",
      "provider_installs",
      "host_capability_snapshots",
    ])
      db.prepare(`DELETE FROM ${table} WHERE host_id = ?`).run(hostId);
    db.prepare("DELETE FROM hosts WHERE id = ?").run(hostId);
  })();
}

/** Other hosts registered with the same base URL (the same sub2api under two names). */
export function hostsWithUrl(s: StoreContext, baseUrl: string): HostRow[] {
  return s.db.select().from(hosts).where(eq(hosts.baseUrl, baseUrl)).all();
}
