import { AppError, notFound } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { LIVE_STATES } from "../domain/resources.js";
import type { HostCapabilities } from "../host/sub2api/index.js";
import { inTransaction, nowIso, type StoreContext, write } from "./db.js";
import type { CapabilitySnapshotRow, HostRow } from "./schema.js";

export type SnapshotInput = Omit<CapabilitySnapshotRow, "id">;

/** Resolves a host by id or by name. */
export async function findHost(s: StoreContext, ref: string): Promise<HostRow> {
  const row = await s.db.q
    .selectFrom("hosts")
    .selectAll()
    .where((eb) => eb.or([eb("id", "=", ref), eb("name", "=", ref)]))
    .executeTakeFirst();
  if (!row)
    throw notFound("HOST_NOT_FOUND", `no host "${ref}"`, {
      hint: hint`List the registered hosts with ${act.hostList()}.`,
    });
  return row;
}

export async function hostNameTaken(s: StoreContext, name: string): Promise<boolean> {
  return (
    (await s.db.q.selectFrom("hosts").select("id").where("name", "=", name).executeTakeFirst()) !== undefined
  );
}

export function listHostRows(s: StoreContext): Promise<HostRow[]> {
  return s.db.q.selectFrom("hosts").selectAll().orderBy("name").execute();
}

/** A new host and its first capability snapshot, in one transaction. */
export async function insertHost(s: StoreContext, row: HostRow, snapshot: SnapshotInput): Promise<void> {
  await inTransaction(s, async ({ db: { q } }) => {
    await q.insertInto("hosts").values(row).execute();
    await q.insertInto("host_capability_snapshots").values(snapshot).execute();
  });
}

/** A re-probe: the host's version and status move, and a new snapshot is kept beside the old ones. */
export async function recordProbe(
  s: StoreContext,
  hostId: string,
  patch: Pick<HostRow, "version" | "status" | "statusReasons">,
  snapshot: SnapshotInput,
): Promise<void> {
  const now = nowIso(s);
  await inTransaction(s, async ({ db: { q } }) => {
    await q
      .updateTable("hosts")
      .set({ ...patch, updatedAt: now, lastProbedAt: now })
      .where("id", "=", hostId)
      .execute();
    await q.insertInto("host_capability_snapshots").values(snapshot).execute();
  });
}

/** A probe that found the host answering as before: only the time of the last good probe moves. */
export async function markProbeAnswered(s: StoreContext, hostId: string): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("hosts")
      .set({ lastProbedAt: nowIso(s) })
      .where("id", "=", hostId)
      .execute(),
  );
}

export function latestSnapshot(s: StoreContext, hostId: string): Promise<CapabilitySnapshotRow | undefined> {
  return s.db.q
    .selectFrom("host_capability_snapshots")
    .selectAll()
    .where("hostId", "=", hostId)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
}

export type StoredCapabilities = HostCapabilities & { max_page_size?: number };

/** The capability matrix of a host's latest probe. */
export async function latestCapabilities(s: StoreContext, hostId: string): Promise<StoredCapabilities> {
  const snapshot = await latestSnapshot(s, hostId);
  if (!snapshot)
    throw new AppError("internal", "NO_SNAPSHOT", `host ${hostId} has never been probed`, {
      hint: hint`Run ${act.hostProbe()}.`,
    });
  return snapshot.capabilities as StoredCapabilities;
}

/** The probe user relay owns (or was given) on a host; the password arrives already sealed. */
export async function saveProbeIdentity(
  s: StoreContext,
  hostId: string,
  identity: { email: string; userId: number | null; passwordSealed: string },
): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("hosts")
      .set({
        probeUserEmail: identity.email,
        probeUserId: identity.userId,
        probePasswordSealed: identity.passwordSealed,
        updatedAt: nowIso(s),
      })
      .where("id", "=", hostId)
      .execute(),
  );
}

/**
 * Claims a probe identity before the probe user is created: stores this email and sealed password
 * unless one for the same email is stored already, in one statement, so concurrent callers agree on
 * one password. Returns the sealed password in force.
 */
export async function claimProbeIdentity(
  s: StoreContext,
  hostId: string,
  email: string,
  passwordSealed: string,
): Promise<string> {
  await write(s, (q) =>
    q
      .updateTable("hosts")
      .set({
        probeUserEmail: email,
        probePasswordSealed: passwordSealed,
        probeUserId: null,
        updatedAt: nowIso(s),
      })
      .where("id", "=", hostId)
      .where((eb) => eb.or([eb("probePasswordSealed", "is", null), eb("probeUserEmail", "!=", email)]))
      .execute(),
  );
  return (await findHost(s, hostId)).probePasswordSealed as string;
}

const generationKey = (hostId: string) => `probe_user.generation.${hostId}`;

/**
 * The generation of relay's own probe user on a host: 1, plus one for each removal begun. It is
 * part of the probe user's address (domain/naming.ts `probeUserEmail`), so a removed address is
 * never asked for again.
 */
export async function probeUserGeneration(s: StoreContext, hostId: string): Promise<number> {
  const row = await s.db.q
    .selectFrom("settings")
    .select("value")
    .where("key", "=", generationKey(hostId))
    .executeTakeFirst();
  const n = Number(row?.value ?? "1");
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

/** A removal's intent, recorded before the host is called: the next probe user is generation `next`. */
export async function setProbeUserGeneration(s: StoreContext, hostId: string, next: number): Promise<void> {
  const updatedAt = nowIso(s);
  await write(s, (q) =>
    q
      .insertInto("settings")
      .values({ key: generationKey(hostId), value: String(next), updatedAt })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(next), updatedAt }))
      .execute(),
  );
}

/** A removal's result: the host's probe identity forgotten (only if it is still the one removed). */
export async function clearProbeIdentity(s: StoreContext, hostId: string, email: string): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("hosts")
      .set({ probeUserEmail: null, probeUserId: null, probePasswordSealed: null, updatedAt: nowIso(s) })
      .where("id", "=", hostId)
      .where("probeUserEmail", "=", email)
      .execute(),
  );
}

/** How many resources relay made are still live on a host, by its records. */
export async function liveResourceCount(s: StoreContext, hostId: string): Promise<number> {
  const row = await s.db.q
    .selectFrom("managed_resources")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("hostId", "=", hostId)
    .where("state", "in", [...LIVE_STATES])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const HOST_TABLES = [
  "probe_results",
  "access_closure_records",
  "reconcile_runs",
  "events",
  "managed_resources",
  "mapping_changes",
  "import_batches",
  "provider_installs",
  "host_capability_snapshots",
] as const;

/** Forgets a host and everything relay recorded about it, in one transaction. Never calls the host. */
export async function forgetHost(s: StoreContext, hostId: string): Promise<void> {
  await inTransaction(s, async ({ db: { q } }) => {
    for (const table of HOST_TABLES) await q.deleteFrom(table).where("hostId", "=", hostId).execute();
    await q.deleteFrom("settings").where("key", "=", generationKey(hostId)).execute();
    await q.deleteFrom("hosts").where("id", "=", hostId).execute();
  });
}

/** Other hosts registered with the same base URL (the same sub2api under two names). */
export function hostsWithUrl(s: StoreContext, baseUrl: string): Promise<HostRow[]> {
  return s.db.q.selectFrom("hosts").selectAll().where("baseUrl", "=", baseUrl).execute();
}
