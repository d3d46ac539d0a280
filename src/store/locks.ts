import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { AppError } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { inTransaction, type Query, type StoreContext } from "./db.js";

/**
 * Provider leases: one holder per (host, provider) for imports, rollbacks, recoveries and
 * reconciles alike. A lease has an expiry its holder keeps pushing forward (heartbeat); a lease
 * whose holder was a process on this machine that no longer exists is free at once, so a crashed
 * import does not block recovery for the rest of its lease.
 */
export interface LockOwner {
  id: string;
  pid: number;
  host: string;
  purpose: string;
}

export const LOCK_TTL_MS = 60_000;
/** How long acquisition keeps retrying while another process holds SQLite's write lock. */
const BUSY_RETRY_MS = 10_000;

export type LockPurpose =
  | "import"
  | "rollback"
  | "recover"
  | "reconcile"
  | "enforcement"
  | "rotation"
  | "migrate";

export interface ProviderKey {
  hostId: string;
  providerId: string;
  /** For messages only. */
  hostName?: string;
}

export const providerLockName = (hostId: string, providerId: string) => `provider:${hostId}:${providerId}`;

function newOwner(purpose: string): LockOwner {
  return {
    id: `${purpose}:${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`,
    pid: process.pid,
    host: hostname(),
    purpose,
  };
}

function decode(text: string): LockOwner | undefined {
  try {
    return JSON.parse(text) as LockOwner;
  } catch {
    return undefined;
  }
}

function ownerIsDead(o: LockOwner | undefined): boolean {
  if (!o || o.host !== hostname() || o.pid === process.pid) return false;
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

interface LockRow {
  owner: string;
  expiresAt: string;
}

/** The lease's row; `share`: locked against a takeover until the transaction ends (PostgreSQL). */
const readLock = (q: Query, name: string, share = false): Promise<LockRow | undefined> =>
  q
    .selectFrom("locks")
    .select(["owner", "expiresAt"])
    .where("name", "=", name)
    .$if(share, (qb) => qb.forShare())
    .executeTakeFirst();

const isBusy = (err: unknown) =>
  (err as { code?: string }).code === "SQLITE_BUSY" || (err as { code?: string }).code === "SQLITE_LOCKED";

/**
 * Takes the lease if it is free, expired, or held by a dead local process. The read and the
 * write happen in one IMMEDIATE transaction: a deferred one would read, then fail to upgrade
 * to a write while another process writes (SQLITE_BUSY, which busy_timeout does not cover).
 */
function tryAcquire(
  s: StoreContext,
  name: string,
  owner: LockOwner,
  ttlMs: number,
): Promise<LockRow | undefined> {
  // The lease itself is never fenced: it is what the fence checks.
  const free = { ...s, db: { ...s.db, fence: undefined } };
  return inTransaction(
    free,
    async ({ db: { q } }): Promise<LockRow | undefined> => {
      const now = s.clock();
      const row = await readLock(q, name);
      if (row && Date.parse(row.expiresAt) > now.getTime() && !ownerIsDead(decode(row.owner))) return row;
      await q
        .insertInto("locks")
        .values({
          name,
          owner: JSON.stringify(owner),
          acquiredAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
        })
        .onConflict((oc) =>
          oc.column("name").doUpdateSet((eb) => ({
            owner: eb.ref("excluded.owner"),
            acquiredAt: eb.ref("excluded.acquiredAt"),
            expiresAt: eb.ref("excluded.expiresAt"),
          })),
        )
        .execute();
      return undefined;
    },
    { immediate: true },
  );
}

async function acquire(s: StoreContext, name: string, owner: LockOwner, ttlMs: number) {
  const deadline = Date.now() + BUSY_RETRY_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      return await tryAcquire(s, name, owner, ttlMs);
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
      await sleep(wait);
    }
  }
}

/** The holder id inside the `owner` JSON, as each engine reads it. */
const holderId = (s: StoreContext) =>
  s.db.kind === "postgres" ? sql<string>`(owner::json ->> 'id')` : sql<string>`json_extract(owner, '$.id')`;

/**
 * Pushes the lease's expiry forward only while this owner still holds it, unexpired (one
 * statement: no takeover slips in between). False when the lease is lost (expired, taken over or
 * released); a database that does not answer (busy, unreachable) throws.
 */
async function renew(s: StoreContext, name: string, owner: LockOwner, ttlMs: number): Promise<boolean> {
  const now = s.clock().getTime();
  const rows = await s.db.q
    .updateTable("locks")
    .set({ expiresAt: new Date(now + ttlMs).toISOString() })
    .where("name", "=", name)
    .where(holderId(s), "=", owner.id)
    .where("expiresAt", ">", new Date(now).toISOString())
    .returning("name")
    .execute();
  return rows.length > 0;
}

async function release(s: StoreContext, name: string, owner: LockOwner): Promise<void> {
  await s.db.q.deleteFrom("locks").where("name", "=", name).where(holderId(s), "=", owner.id).execute();
}

export function providerBusy(key: ProviderKey, held?: LockOwner): AppError {
  const what = held?.purpose
    ? `an ${held.purpose === "import" ? "import" : held.purpose}`
    : "another operation";
  return new AppError(
    "conflict",
    "PROVIDER_BUSY",
    `${what} of ${key.providerId} on ${key.hostName ?? key.hostId} is already running (imports, rollbacks, recoveries and reconciles of one provider take turns)`,
    {
      details: { held_by: held?.purpose ?? null },
      hint: hint`Wait for it to finish (see ${act.batchList()}) and run the command again.`,
    },
  );
}

/** A lease this process held and lost (stalled past its TTL, taken over): it must stop writing. */
export function leaseLost(key: ProviderKey, purpose: LockPurpose): AppError {
  return new AppError(
    "conflict",
    "LEASE_LOST",
    `this ${purpose} lost its lease on ${key.providerId} on ${key.hostName ?? key.hostId} (the process was stopped or stalled past its lease, RELAY_LEASE_MS); it stops here without another write — recovery finishes or has finished the batch`,
    { hint: hint`See ${act.batchList()}; run ${act.batchRecover()} if the batch is still running.` },
  );
}

/** Whether `owner` still holds the lease `name`, unexpired: read in the writer's own transaction. */
async function holds(q: Query, s: StoreContext, name: string, owner: LockOwner): Promise<boolean> {
  // On PostgreSQL the row stays share-locked to the writer's commit: a takeover (which updates it)
  // waits for it, and a writer after the takeover reads the new holder. SQLite: BEGIN IMMEDIATE.
  const row = await readLock(q, name, s.db.kind === "postgres");
  return (
    row !== undefined && decode(row.owner)?.id === owner.id && Date.parse(row.expiresAt) > s.clock().getTime()
  );
}

/**
 * Runs `fn` holding the provider's lease, renewing it while `fn` runs and releasing it after.
 * Throws `PROVIDER_BUSY` (conflict: HTTP 409, exit 4) when someone alive holds it.
 *
 * Fencing: `fn` gets the context with a fenced database (`Db.fence`): every write it makes
 * checks, in its transaction (its own, for a single write), that this lease is still held — so a process that stalled past
 * its lease (SIGSTOP, a long pause) and was recovered meanwhile writes nothing more; its next
 * write throws `LEASE_LOST`, and as every host write is recorded as intended first, it sends
 * nothing more to the host either. A renewal that finds the lease gone marks it lost at once.
 */
export async function withProviderLock<C extends StoreContext, T>(
  s: C,
  key: ProviderKey,
  purpose: LockPurpose,
  fn: (held: C) => Promise<T>,
  ttlMs = LOCK_TTL_MS,
): Promise<T> {
  const name = providerLockName(key.hostId, key.providerId);
  const owner = newOwner(purpose);
  const taken = await acquire(s, name, owner, ttlMs);
  if (taken) throw providerBusy(key, decode(taken.owner));
  let lost = false;
  let beating: Promise<void> | undefined;
  const heartbeat = setInterval(() => {
    if (lost || beating) return; // one renewal at a time
    beating = renew(s, name, owner, ttlMs)
      .then((held) => {
        if (!held) lost = true;
      })
      // A busy or unreachable database skips one beat (never thrown: this runs on a timer); the
      // next one renews, or finds the lease expired and lost.
      .catch(() => undefined)
      .finally(() => {
        beating = undefined;
      });
  }, ttlMs / 4);
  heartbeat.unref();
  const fence = async (q: Query) => {
    if (lost || !(await holds(q, s, name, owner))) {
      lost = true;
      throw leaseLost(key, purpose);
    }
  };
  try {
    return await fn({ ...s, db: { ...s.db, fence } });
  } finally {
    clearInterval(heartbeat);
    await beating;
    await release(s, name, owner);
  }
}

/** Whether someone alive holds the lease right now (recovery leaves live work alone). */
export async function providerLockIsLive(s: StoreContext, key: ProviderKey): Promise<boolean> {
  const row = await readLock(s.db.q, providerLockName(key.hostId, key.providerId));
  if (!row) return false;
  return Date.parse(row.expiresAt) > s.clock().getTime() && !ownerIsDead(decode(row.owner));
}

const SCHEDULER_LEASE = "scheduler";

/**
 * Scheduler leadership among the `relay serve` processes sharing this database: the holder of the
 * `scheduler` lease runs the reconcile ticks. The leader renews it (heartbeat); a leader that died
 * (its lease expired, or its process is gone from this machine) is replaced by the next replica
 * that asks. Returns whether this process leads now.
 */
export async function holdSchedulerLease(s: StoreContext, owner: LockOwner, ttlMs: number): Promise<boolean> {
  try {
    const held = await tryAcquire(s, SCHEDULER_LEASE, owner, ttlMs);
    if (!held) return true;
    if (decode(held.owner)?.id !== owner.id) return false;
    return await renew(s, SCHEDULER_LEASE, owner, ttlMs);
  } catch (err) {
    if (isBusy(err)) return false; // asked again at the next heartbeat
    throw err;
  }
}

export async function releaseSchedulerLease(s: StoreContext, owner: LockOwner): Promise<void> {
  await release(s, SCHEDULER_LEASE, owner);
}

/**
 * Claims one scheduled tick (its planned time, `slot`) for this process: true for exactly one
 * caller per slot, across processes, however close together their clocks fire.
 */
export async function claimTick(s: StoreContext, slot: string): Promise<boolean> {
  try {
    return await inTransaction(
      s,
      async ({ db: { q } }): Promise<boolean> => {
        const last = await q
          .selectFrom("settings")
          .select("value")
          .where("key", "=", "scheduler.last_tick")
          .executeTakeFirst();
        if (last && last.value >= slot) return false;
        const updatedAt = s.clock().toISOString();
        await q
          .insertInto("settings")
          .values({ key: "scheduler.last_tick", value: slot, updatedAt })
          .onConflict((oc) =>
            oc.column("key").doUpdateSet((eb) => ({
              value: eb.ref("excluded.value"),
              updatedAt: eb.ref("excluded.updatedAt"),
            })),
          )
          .execute();
        return true;
      },
      { immediate: true },
    );
  } catch (err) {
    if (isBusy(err)) return false;
    throw err;
  }
}

export { newOwner as schedulerOwner };

/** Leases held right now, by anyone (a copy of the whole state waits until there are none). */
export async function liveLeaseCount(s: StoreContext): Promise<number> {
  const row = await s.db.q
    .selectFrom("locks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("expiresAt", ">", s.clock().toISOString())
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
