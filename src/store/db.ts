import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import {
  CamelCasePlugin,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  sql,
} from "kysely";
import pg from "pg";
import { projectRoot } from "../util/paths.js";
import type { Database } from "./schema.js";
import { type StoreKind, StoreValues } from "./values.js";

export type { StoreKind };
export type Query = Kysely<Database>;

/**
 * The store: one Kysely query builder over either engine (better-sqlite3's one connection, or a
 * `pg.Pool`), an async API, every value bound by the driver. Inside a transaction `q` is the
 * transaction's own connection (see `inTransaction`). A holder of a lease gets a `fence` that
 * every write checks first (locks.ts).
 */
export interface Db {
  readonly kind: StoreKind;
  readonly q: Query;
  /** True inside `inTransaction`: `q` is the transaction's connection. */
  readonly inTx: boolean;
  /** Run at the start of every write transaction of a lease holder: throws when the lease is lost. */
  readonly fence?: ((q: Query) => Promise<void>) | undefined;
  /** The whole pool or file, for closing. */
  readonly root: Query;
}

/** What a repository needs: the database and the clock. `AppContext` is one. */
export interface StoreContext {
  db: Db;
  clock: () => Date;
}

export function nowIso(s: { clock: () => Date }): string {
  return s.clock().toISOString();
}

/** Write transactions that must not interleave (lease and tick claims): SQLite's IMMEDIATE. */
const WRITE_LOCK = 0x72656c61; // "rela"
const MIGRATION_LOCK = 0x72656c6d; // "relm"

/**
 * Runs `fn` in one transaction on one connection: its context's `db.q` is that connection (pass it
 * on: a call with the outer context would wait for the connection the transaction holds). Never a
 * host call inside (style §12: record the intent, call the host, record the result). `immediate`
 * takes the store-wide write lock at BEGIN — SQLite's `BEGIN IMMEDIATE`, on PostgreSQL a
 * transaction advisory lock — so claims that read then write (leases, scheduler ticks) never
 * interleave between processes. A lease holder's transaction runs its fence first (SQLite: under
 * BEGIN IMMEDIATE; PostgreSQL: the fence locks the lease row, which a takeover has to wait for).
 * Nested, it runs inside the outer one.
 */
export async function inTransaction<C extends StoreContext, T>(
  s: C,
  fn: (tx: C) => Promise<T>,
  options: { immediate?: boolean } = {},
): Promise<T> {
  if (s.db.inTx) return fn(s);
  const { db } = s;
  const immediate = options.immediate === true;
  return db.q.connection().execute(async (conn) => {
    const sqlite = db.kind === "sqlite";
    await (sqlite && (immediate || db.fence) ? sql`BEGIN IMMEDIATE` : sql`BEGIN`).execute(conn);
    try {
      // Inside the try: a lock wait that fails (a statement timeout) rolls back, so the connection
      // goes back to the pool outside any transaction.
      if (!sqlite && immediate) await sql`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`.execute(conn);
      if (db.fence) await db.fence(conn);
      const result = await fn({ ...s, db: { ...db, q: conn, inTx: true } });
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (err) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

/**
 * One write: as it is, or for a lease holder in its own fenced transaction (the lease checked
 * first). Every repository write goes through here or through `inTransaction`.
 */
export function write<T>(s: StoreContext, fn: (q: Query) => Promise<T>): Promise<T> {
  if (s.db.fence && !s.db.inTx) return inTransaction(s, (tx) => fn(tx.db.q));
  return fn(s.db.q);
}

export async function closeDb(db: Db): Promise<void> {
  await db.root.destroy();
}

/** Which engine holds the state (a few statements are written per engine; most are shared). */
export function storeKind(db: Db): StoreKind {
  return db.kind;
}

export const isPostgresUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target);

/** Readiness: the database answers and its migrations table is there. */
export async function ping(db: Db): Promise<void> {
  await sql`SELECT count(*) AS n FROM schema_migrations`.execute(db.q);
}

export interface OpenDbOptions {
  migrationsDir?: string;
  /** PostgreSQL: connections in the pool (RELAY_PG_POOL_SIZE). */
  poolSize?: number;
  /** PostgreSQL: how long one statement may run before the server cancels it (RELAY_PG_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
}

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** Statements kept prepared (by their SQL text): the statements of the code, not of the data. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3's connection as Kysely's driver sees it, with its statements prepared once:
 * the driver prepares every statement it runs, which costs more than running a short read. A
 * statement is reusable (its values are bound on each run); SQLite re-prepares it itself after a
 * schema change. The oldest statement leaves when the cache is full.
 */
function preparedOnce(sqlite: SqliteDatabase.Database): SqliteDialectConfig["database"] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (stmt === undefined) {
        stmt = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

const plugins = (kind: StoreKind) => [new CamelCasePlugin(), new StoreValues(kind)];

function wrap(kind: StoreKind, q: Query): Db {
  return { kind, q, root: q, inTx: false };
}

/**
 * Open the store and apply pending migrations: a `postgres://` URL (RELAY_DATABASE_URL) opens
 * PostgreSQL, anything else is the SQLite file (created if needed).
 */
export async function openDb(target: string, options: OpenDbOptions = {}): Promise<Db> {
  if (isPostgresUrl(target)) return openPostgres(target, options);
  const path = target;
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // The database holds sealed secrets and key hashes: only its owner may read it. Created here
    // with 0600 (SQLite would follow the umask), and the WAL and shm files follow its mode.
    if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  }
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  const db = wrap(
    "sqlite",
    new Kysely<Database>({
      dialect: new SqliteDialect({ database: preparedOnce(sqlite) }),
      plugins: plugins("sqlite"),
    }),
  );
  try {
    // SQLite runs a migration file (several statements) through the driver's own `exec`.
    await migrate(db, options.migrationsDir ?? join(projectRoot(), "migrations"), async (_q, text) => {
      sqlite.exec(text);
    });
  } catch (err) {
    await closeDb(db);
    throw err;
  }
  return db;
}

/** COUNT(*) and SUM() are int8 and AVG() numeric: numbers, as SQLite gives them (relay's counts fit). */
const pgTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20 || oid === 1700
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/**
 * PostgreSQL: a pool of connections, each with a statement timeout. A dropped connection (server
 * restart, network) is discarded by the pool and the next query gets a new one; the query that met
 * the drop fails, as on any driver, and its caller retries at its own pace. Replicas starting
 * together take turns on a session advisory lock, so each migration is applied once.
 */
async function openPostgres(url: string, options: OpenDbOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    // A server that accepts nothing (a black-holed address) fails the query, not the process.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: pgTypes,
  });
  // An idle connection that drops is removed by the pool; the error is not the process's end.
  pool.on("error", () => undefined);
  const db = wrap(
    "postgres",
    new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: plugins("postgres") }),
  );
  try {
    await db.q.connection().execute(async (conn) => {
      await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
      try {
        await migrate(
          { ...db, q: conn },
          options.migrationsDir ?? join(projectRoot(), "migrations", "postgres"),
          // A file's text, no parameters: the driver sends it as one simple query.
          async (q, text) => {
            await sql.raw(text).execute(q);
          },
        );
      } finally {
        await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
      }
    });
  } catch (err) {
    await closeDb(db);
    throw err;
  }
  return db;
}

export interface AppliedMigration {
  version: number;
  name: string;
}

/** Runs one migration file's statements on the connection given. */
export type ScriptRunner = (q: Query, text: string) => Promise<void>;

/**
 * Apply every `NNNN_name.sql` not yet recorded in `schema_migrations`, each in its own transaction,
 * on one connection. Idempotent: running it again applies nothing. A failing migration rolls back
 * and stops start-up. The one runner of both engines; each engine has its own files.
 */
export async function migrate(db: Db, dir: string, run: ScriptRunner): Promise<AppliedMigration[]> {
  return db.q.connection().execute(async (q) => {
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`.execute(q);
    const recorded = await sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(q);
    const done = new Set(recorded.rows.map((r) => r.version));
    const files = readdirSync(dir)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort();
    const applied: AppliedMigration[] = [];
    for (const file of files) {
      const version = Number(file.slice(0, 4));
      if (done.has(version)) continue;
      const text = readFileSync(join(dir, file), "utf8");
      await sql`BEGIN`.execute(q);
      try {
        await run(q, text);
        await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${version}, ${file}, ${new Date().toISOString()})`.execute(
          q,
        );
        await sql`COMMIT`.execute(q);
      } catch (err) {
        await sql`ROLLBACK`.execute(q).catch(() => undefined);
        throw err;
      }
      applied.push({ version, name: file });
    }
    return applied;
  });
}
