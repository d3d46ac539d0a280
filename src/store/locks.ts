import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../domain/errors.js";
import { type StoreContext, storeKind } from "./db.js";
import { fencedDb } from "./fence.js";
import { stmt } from "./statements.js";

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

export type LockPurpose = "import" | "rollback" | "recover" | "reconcile" | "enforcement";

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
  expires_at: string;
}

const isBusy = (err: unknown) =>
  (err as { code?: string }).code === "SQLITE_BUSY" || (err as { code?: string }).code === "SQLITE_LOCKED";

/**
 * Takes the lease if it is free, expired, or held by a dead local process. The read and the
 * write happen in one IMMEDIATE transaction: a deferred one would read, then fail to upgrade
 * to a write while another process writes (SQLITE_BUSY, which busy_timeout does not cover).
 */
function tryAcquire(s: StoreContext, name: string, owner: LockOwner, ttlMs: number): LockRow | undefined {
  const sqlite = s.db.$client;
  const attempt = sqlite.transaction((): LockRow | undefined => {
    const now = s.clock();
    const row = stmt(sqlite, "SELECT owner, expires_at FROM locks WHERE name = ?").get(name) as
      | LockRow
      | undefined;
    if (row && Date.parse(row.expires_at) > now.getTime() && !ownerIsDead(decode(row.owner))) return row;
    stmt(
      sqlite,
      `INSERT INTO locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
         expires_at = excluded.expires_at`,
    ).run(name, JSON.stringify(owner), now.toISOString(), new Date(now.getTime() + ttlMs).toISOString());
    return undefined;
  });
  return attempt.immediate();
}

async function acquire(s: StoreContext, name: string, owner: LockOwner, ttlMs: number) {
  const deadline = Date.now() + BUSY_RETRY_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      return tryAcquire(s, name, owner, ttlMs);
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
      await sleep(wait);
    }
  }
}

/** The holder id inside the `owner` JSON, as each engine reads it. */
const holderId = (s: StoreContext) =>
  storeKind(s.db) === "postgres" ? "(owner::json ->> 'id')" : "json_extract(owner, '$.id')";

/**
 * Pushes the lease's expiry forward only while this owner still holds it, unexpired (one
 * statement: no takeover slips in between). False when the lease is lost (expired, taken over or
 * released); a database that does not answer (busy, unreachable) throws.
 */
function renew(s: StoreContext, name: string, owner: LockOwner, ttlMs: number): boolean {
  const now = s.clock().getTime();
  const rows = stmt(
    s.db.$client,
    `UPDATE locks SET expires_at = ? WHERE name = ? AND ${holderId(s)} = ? AND expires_at > ? RETURNING name`,
  ).all(new Date(now + ttlMs).toISOString(), name, owner.id, new Date(now).toISOString());
  return rows.length > 0;
}

function release(s: StoreContext, name: string, owner: LockOwner) {
  stmt(s.db.$client, `DELETE FROM locks WHERE name = ? AND ${holderId(s)} = ?`).run(name, owner.id);
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
      hint: "Wait for it to finish (see `relay batch list`) and run the command again.",
    },
  );
}

/** A lease this process held and lost (stalled past its TTL, taken over): it must stop writing. */
export function leaseLost(key: ProviderKey, purpose: LockPurpose): AppError {
  return new AppError(
    "conflict",
    "LEASE_LOST",
    `this ${purpose} lost its lease on ${key.providerId} on ${key.hostName ?? key.hostId} (the process was stopped or stalled past its lease, RELAY_LEASE_MS); it stops here without another write — recovery finishes or has finished the batch`,
    { hint: "See `relay batch list`; run `relay batch recover` if the batch is still running." },
  );
}

/** Whether `owner` still holds the lease `name`, unexpired: read in the writer's own transaction. */
function holds(s: StoreContext, name: string, owner: LockOwner): boolean {
  const row = stmt(s.db.$client, "SELECT owner, expires_at FROM locks WHERE name = ?").get(name) as
    | LockRow
    | undefined;
  return (
    row !== undefined &&
    decode(row.owner)?.id === owner.id &&
    Date.parse(row.expires_at) > s.clock().getTime()
  );
}

/**
 * Runs `fn` holding the provider's lease, renewing it while `fn` runs and releasing it after.
 * Throws `PROVIDER_BUSY` (conflict: HTTP 409, exit 4) when someone alive holds it.
 *
 * Fencing: `fn` gets the context with a fenced database (store/fence.ts): every write it makes
 * checks, in its own transaction, that this lease is still held — so a process that stalled past
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
  const heartbeat = setInterval(() => {
    try {
      if (!lost && !renew(s, name, owner, ttlMs)) lost = true;
    } catch {
      // A busy or unreachable database skips one beat (never thrown: this runs on a timer); the
      // next one renews, or finds the lease expired and lost.
    }
  }, ttlMs / 4);
  heartbeat.unref();
  const check = () => {
    if (lost || !holds(s, name, owner)) {
      lost = true;
      throw leaseLost(key, purpose);
    }
  };
  try {
    return await fn({ ...s, db: fencedDb(s.db, check) });
  } finally {
    clearInterval(heartbeat);
    release(s, name, owner);
  }
}

/** Whether someone alive holds the lease right now (recovery leaves live work alone). */
export function providerLockIsLive(s: StoreContext, key: ProviderKey): boolean {
  const row = stmt(s.db.$client, "SELECT owner, expires_at FROM locks WHERE name = ?").get(
    providerLockName(key.hostId, key.providerId),
  ) as LockRow | undefined;
  if (!row) return false;
  return Date.parse(row.expires_at) > s.clock().getTime() && !ownerIsDead(decode(row.owner));
}

const SCHEDULER_LEASE = "scheduler";

/**
 * Scheduler leadership among the `relay serve` processes sharing this database: the holder of the
 * `scheduler` lease runs the reconcile ticks. The leader renews it (heartbeat); a leader that died
 * (its lease expired, or its process is gone from this machine) is replaced by the next replica
 * that asks. Returns whether this process leads now.
 */
export function holdSchedulerLease(s: StoreContext, owner: LockOwner, ttlMs: number): boolean {
  try {
    const held = tryAcquire(s, SCHEDULER_LEASE, owner, ttlMs);
    if (!held) return true;
    if (decode(held.owner)?.id !== owner.id) return false;
    return renew(s, SCHEDULER_LEASE, owner, ttlMs);
  } catch (err) {
    if (isBusy(err)) return false; // asked again at the next heartbeat
    throw err;
  }
}

export function releaseSchedulerLease(s: StoreContext, owner: LockOwner): void {
  release(s, SCHEDULER_LEASE, owner);
}

/**
 * Claims one scheduled tick (its planned time, `slot`) for this process: true for exactly one
 * caller per slot, across processes, however close together their clocks fire.
 */
export function claimTick(s: StoreContext, slot: string): boolean {
  const sqlite = s.db.$client;
  try {
    return sqlite
      .transaction((): boolean => {
        const last = stmt(sqlite, "SELECT value FROM settings WHERE key = 'scheduler.last_tick'").get() as
          | { value: string }
          | undefined;
        if (last && last.value >= slot) return false;
        stmt(
          sqlite,
          `INSERT INTO settings (key, value, updated_at) VALUES ('scheduler.last_tick', ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        ).run(slot, s.clock().toISOString());
        return true;
      })
      .immediate();
  } catch (err) {
    if (isBusy(err)) return false;
    throw err;
  }
}

export { newOwner as schedulerOwner };

/** Leases held right now, by anyone (a copy of the whole state waits until there are none). */
export function liveLeaseCount(s: StoreContext): number {
  return (
    stmt(s.db.$client, "SELECT count(*) AS n FROM locks WHERE expires_at > ?").get(
      s.clock().toISOString(),
    ) as {
      n: number;
    }
  ).n;
}
