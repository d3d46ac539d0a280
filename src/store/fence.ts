import type Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import type { Db } from "./db.js";
import * as schema from "./schema.js";

const WRITE = /^\s*(insert|update|delete|replace)\b/i;

/**
 * The database as the holder of a lease writes to it: every write runs in a transaction that
 * first calls `check` (is the lease still mine?) — a write outside a transaction gets one of its
 * own, a transaction checks once at its start. Top-level transactions are IMMEDIATE (SQLite's
 * write lock; PostgreSQL's store-wide advisory lock), the mode a lease is taken in, so no takeover
 * commits between the check and the writes. Reads go through unchanged.
 */
export function fencedDb(db: Db, check: () => void): Db {
  const client = db.$client;
  let depth = 0;
  const transaction = <F extends (...args: never[]) => unknown>(fn: F) => {
    const body = (...args: Parameters<F>) => {
      depth += 1;
      try {
        if (depth === 1) check();
        return fn(...args);
      } finally {
        depth -= 1;
      }
    };
    const native = client.transaction(body);
    const run = (...args: Parameters<F>) => (depth > 0 ? native(...args) : native.immediate(...args));
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run });
  };
  const fenced = (stmt: Database.Statement, sql: string): Database.Statement => {
    if (!WRITE.test(sql)) return stmt;
    const wrap =
      (method: "run" | "get" | "all") =>
      (...params: unknown[]) =>
        transaction(() => (stmt[method] as (...p: unknown[]) => unknown)(...params))();
    return new Proxy(stmt, {
      get(target, prop) {
        if (prop === "run" || prop === "get" || prop === "all") return wrap(prop);
        if (prop === "raw") return (on?: boolean) => fenced(target.raw(on), sql);
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  const proxy = new Proxy(client, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => fenced(target.prepare(sql), sql);
      if (prop === "transaction") return transaction;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return drizzle(proxy, { schema }) as Db;
}
