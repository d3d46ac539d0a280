import { existsSync } from "node:fs";
import { join } from "node:path";
import { createSyncFn } from "synckit";
import { AppError } from "../domain/errors.js";
import { projectRoot } from "../util/paths.js";
import type { PgRequest, PgResponse } from "./pg-worker.js";

/**
 * PostgreSQL behind the interface the store already uses: the part of better-sqlite3's `Database`
 * that drizzle's SQLite session and the repositories call (`prepare` → `run`/`all`/`get`/`raw`,
 * `transaction`, `exec`, `close`). Statements are sent to a worker thread holding the `pg`
 * connection and waited for, so a repository function reads and writes the same way on both
 * stores — one repository layer, written in the SQL both engines accept (`?` placeholders become
 * `$n` here). The cost is a round trip to the server per read or write outside a transaction,
 * and per transaction for its writes (see `#pending`), during which this process waits, as it
 * waits for SQLite's disk.
 */

/** Write transactions that must not interleave (lease and tick claims): SQLite's IMMEDIATE. */
const WRITE_LOCK = 0x72656c61; // "rela"
export const MIGRATION_LOCK = 0x72656c6d; // "relm"

/** How long one statement may take before the server cancels it (and the call fails). */
const STATEMENT_TIMEOUT_MS = 30_000;

let bridge: ((req: PgRequest) => PgResponse) | undefined;
let nextConn = 1;

function call(req: PgRequest): PgResponse {
  if (!bridge) {
    // The worker is the built file: the bundle's own entry, or tsc's output (tests run after the build).
    const file = ["dist/bin/pg-worker.mjs", "dist/src/store/pg-worker.js"]
      .map((f) => join(projectRoot(), f))
      .find((f) => existsSync(f));
    if (!file) throw new Error("the PostgreSQL worker is not built: run `npm run build`");
    bridge = createSyncFn<(req: PgRequest) => Promise<PgResponse>>(file, {
      timeout: STATEMENT_TIMEOUT_MS + 5_000,
    });
  }
  return bridge(req);
}

export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "PostgresError";
  }
}

/**
 * SQLite-dialect SQL as PostgreSQL takes it: `?` placeholders become `$1…$n` (quoted literals and
 * identifiers left alone), and the conflict target drizzle's SQLite dialect writes with table
 * names (`on conflict ("t"."a", "t"."b")`) loses them, which PostgreSQL requires.
 */
export function toPostgres(sql: string): string {
  return positional(unqualifiedConflictTarget(sql));
}

const unqualifiedConflictTarget = (sql: string) =>
  sql.replace(
    /on conflict \(([^)]*)\)/gi,
    (_, cols: string) => `on conflict (${cols.replace(/"[^"]+"\./g, "")})`,
  );

/**
 * `sql` with each `?` outside quoted literals and identifiers replaced by `by(n)` (n from 0), or
 * undefined when `by` has no replacement for one.
 */
function placeholders(
  sql: string,
  by: (n: number) => string | undefined,
): { text: string; count: number } | undefined {
  let n = 0;
  let quote: string | null = null;
  let text = "";
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === "?") {
      const replacement = by(n++);
      if (replacement === undefined) return undefined;
      text += replacement;
      continue;
    }
    text += ch;
  }
  return { text, count: n };
}

const positional = (sql: string): string => placeholders(sql, (n) => `$${n + 1}`)?.text ?? sql;

/**
 * A value as a quoted literal: like an untyped parameter, PostgreSQL types it from its context
 * (`'5'` into an integer column is 5). Undefined when a value has no text form here.
 */
function literal(v: unknown): string | undefined {
  if (v === null || v === undefined) return "NULL";
  let text: string;
  if (typeof v === "string") text = v;
  else if (typeof v === "number" && Number.isFinite(v)) text = String(v);
  else if (typeof v === "bigint" || typeof v === "boolean") text = String(v);
  else return undefined;
  const quoted = `'${text.replace(/'/g, "''")}'`;
  // Backslashes are literal under standard_conforming_strings (the default); E'' makes it explicit.
  return text.includes("\\") ? `E${quoted.replace(/\\/g, "\\\\")}` : quoted;
}

/**
 * SQLite-dialect SQL with its `?` values written in, for a batch of writes sent as one text. The
 * SQL is rewritten before the values go in, so no value is ever read as SQL.
 */
export function inline(source: string, values: unknown[]): string | undefined {
  const done = placeholders(unqualifiedConflictTarget(source), (n) => literal(values[n]));
  return done && done.count === values.length ? done.text : undefined;
}

type Rows = "objects" | "arrays";

class PgStatement {
  readonly #source: string;
  readonly #sql: string;
  readonly #db: PgDatabase;
  readonly #rows: Rows;

  constructor(db: PgDatabase, source: string, rows: Rows = "objects") {
    this.#db = db;
    this.#source = source;
    this.#sql = toPostgres(source);
    this.#rows = rows;
  }

  /** Rows as arrays in select-list order (drizzle maps them to fields). */
  raw(on = true): PgStatement {
    return new PgStatement(this.#db, this.#source, on ? "arrays" : "objects");
  }

  /** `changes` is not counted (nothing in relay reads it): inside a transaction writes are queued. */
  run(...params: unknown[]): { changes: number; lastInsertRowid: number } {
    this.#db.write(this.#source, this.#sql, params);
    return { changes: 0, lastInsertRowid: 0 };
  }

  all(...params: unknown[]): unknown[] {
    return this.#db.query(this.#sql, params, this.#rows).rows;
  }

  get(...params: unknown[]): unknown {
    return this.all(...params)[0];
  }
}

type TxFn<A extends unknown[], R> = ((...args: A) => R) & {
  deferred: (...args: A) => R;
  immediate: (...args: A) => R;
  exclusive: (...args: A) => R;
};

/** The values of a statement; PostgreSQL text cannot hold U+0000 (SQLite's can): bad input, never a 500. */
function checked(params: unknown[]): unknown[] {
  const values = params.flat();
  if (values.some((v) => typeof v === "string" && v.includes("\u0000")))
    throw new AppError("invalid_input", "INVALID_TEXT", "text with a NUL character (U+0000) is not accepted");
  return values;
}

export class PgDatabase {
  readonly name = "postgres";
  readonly #conn = nextConn++;
  readonly #statements = new Map<string, PgStatement>();
  #depth = 0;
  #open = true;
  /**
   * The open transaction's statements not yet sent (BEGIN, writes with their values written in,
   * savepoints): sent together as one text — one round trip — before its next read and at COMMIT.
   * A transaction of an import's 32 test results is one round trip, not 66.
   */
  #pending: string[] = [];

  constructor(url: string) {
    this.#send({ op: "connect", conn: this.#conn, url, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
  }

  #send(req: PgRequest): { rows: unknown[] } {
    const res = call(req);
    if (!res.ok) throw new PostgresError(res.message, res.code);
    return res;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join(";\n");
    this.#pending = [];
    this.#send({ op: "exec", conn: this.#conn, sql: text });
  }

  query(sql: string, params: unknown[], rows: Rows = "objects") {
    return this.#query(sql, checked(params), rows);
  }

  #query(sql: string, values: unknown[], rows: Rows) {
    this.#flush();
    return this.#send({ op: "query", conn: this.#conn, sql, params: values, rows });
  }

  /** A write: inside a transaction, queued (see `#pending`); outside one, sent and waited for. */
  write(source: string, sql: string, params: unknown[]): void {
    const values = checked(params);
    const text = this.#depth > 0 ? inline(source, values) : undefined;
    if (text === undefined) this.#query(sql, values, "objects");
    else this.#pending.push(text);
  }

  prepare(sql: string): PgStatement {
    let s = this.#statements.get(sql);
    if (!s) {
      s = new PgStatement(this, sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  exec(sql: string): this {
    this.#flush();
    this.#send({ op: "exec", conn: this.#conn, sql });
    return this;
  }

  /**
   * better-sqlite3's transaction function: BEGIN/COMMIT around `fn`, ROLLBACK when it throws, a
   * savepoint when nested. `immediate` also takes the store-wide write lock, so claims that read
   * then write (leases, scheduler ticks) never interleave between replicas — as in SQLite.
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): TxFn<A, R> {
    const run =
      (immediate: boolean) =>
      (...args: A): R => {
        const nested = this.#depth > 0;
        const sp = `relay_sp_${this.#depth}`;
        const opening = nested ? `SAVEPOINT ${sp}` : "BEGIN";
        const mark = this.#pending.length;
        // The write lock is taken at once (the claim's read must see the state under it).
        const locked = immediate && !nested;
        if (locked) this.exec(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
        else this.#pending.push(opening);
        this.#depth += 1;
        let result: R;
        try {
          result = fn(...args);
          this.#pending.push(nested ? `RELEASE SAVEPOINT ${sp}` : "COMMIT");
          if (!nested) this.#flush();
        } catch (err) {
          // Unsent, the transaction (or savepoint) and its writes are simply dropped.
          const unsent = !locked && this.#pending[mark] === opening;
          this.#pending.length = unsent ? mark : 0;
          if (!unsent && this.#open) this.exec(nested ? `ROLLBACK TO SAVEPOINT ${sp}` : "ROLLBACK");
          throw err;
        } finally {
          this.#depth -= 1;
        }
        return result;
      };
    const deferred = run(false);
    return Object.assign(deferred, { deferred, immediate: run(true), exclusive: run(true) });
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#pending = [];
    this.#send({ op: "close", conn: this.#conn });
  }
}
