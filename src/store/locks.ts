import { hostname } from "node:os";
import { eq } from "drizzle-orm";
import type { Db } from "./db.js";
import { locks } from "./schema.js";

/**
 * Leases in SQLite: one holder per name, with an expiry the holder keeps pushing forward. A lease
 * whose holder was a process on this machine that no longer exists is free at once, so a crashed
 * import does not block recovery for the rest of its lease.
 */
export interface LockOwner {
  id: string;
  pid: number;
  host: string;
}

export function currentOwner(tag: string): LockOwner {
  return {
    id: `${tag}:${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    pid: process.pid,
    host: hostname(),
  };
}

function encode(o: LockOwner) {
  return JSON.stringify(o);
}

function decode(text: string): LockOwner | undefined {
  try {
    return JSON.parse(text) as LockOwner;
  } catch {
    return undefined;
  }
}

export function ownerIsDead(o: LockOwner | undefined): boolean {
  if (!o || o.host !== hostname()) return false;
  if (o.pid === process.pid) return false;
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export interface LockState {
  holder: LockOwner | undefined;
  expiresAt: string;
}

/** Takes the lease if it is free, expired, or held by a dead local process. Returns the holder otherwise. */
export function acquireLock(
  db: Db,
  name: string,
  owner: LockOwner,
  ttlMs: number,
  now: Date,
): { ok: true } | { ok: false; held: LockState } {
  return db.transaction((tx) => {
    const row = tx.select().from(locks).where(eq(locks.name, name)).get();
    if (row) {
      const holder = decode(row.owner);
      const free =
        Date.parse(row.expiresAt) <= now.getTime() || ownerIsDead(holder) || holder?.id === owner.id;
      if (!free) return { ok: false as const, held: { holder, expiresAt: row.expiresAt } };
      tx.delete(locks).where(eq(locks.name, name)).run();
    }
    tx.insert(locks)
      .values({
        name,
        owner: encode(owner),
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
      })
      .run();
    return { ok: true as const };
  });
}

export function renewLock(db: Db, name: string, owner: LockOwner, ttlMs: number, now: Date): boolean {
  const row = db.select().from(locks).where(eq(locks.name, name)).get();
  if (!row || decode(row.owner)?.id !== owner.id) return false;
  db.update(locks)
    .set({ expiresAt: new Date(now.getTime() + ttlMs).toISOString() })
    .where(eq(locks.name, name))
    .run();
  return true;
}

export function releaseLock(db: Db, name: string, owner: LockOwner): void {
  const row = db.select().from(locks).where(eq(locks.name, name)).get();
  if (row && decode(row.owner)?.id === owner.id) db.delete(locks).where(eq(locks.name, name)).run();
}

/** Whether someone alive holds the lease right now (used by recovery to leave live work alone). */
export function lockIsLive(db: Db, name: string, now: Date): boolean {
  const row = db.select().from(locks).where(eq(locks.name, name)).get();
  if (!row) return false;
  return Date.parse(row.expiresAt) > now.getTime() && !ownerIsDead(decode(row.owner));
}

export const providerLockName = (hostId: string, providerId: string) => `provider:${hostId}:${providerId}`;
