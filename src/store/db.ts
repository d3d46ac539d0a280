import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { projectRoot } from "../util/paths.js";
import { MIGRATION_LOCK, PgDatabase } from "./pg.js";
import * as schema from "./schema.js";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** What a repository needs: the database and the clock. `AppContext` is one. */
export interface StoreContext {
  db: Db;
  clock: () => Date;
}

export function nowIso(s: { clock: () => Date }): string {
  return s.clock().toISOString();
}

/** Runs synchronous writes in one transaction (never a host call inside: style §12). */
export function inTransaction(s: StoreContext, fn: () => void): void {
  s.db.$client.transaction(fn)();
}

export function closeDb(db: Db): void {
  db.$client.close();
}

export type StoreKind = "sqlite" | "postgres";

/** Which engine holds the state (a few statements are written per engine; most are shared). */
export function storeKind(db: Db): StoreKind {
  return (db.$client as unknown) instanceof PgDatabase ? "postgres" : "sqlite";
}

export const isPostgresUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target);

/** Readiness: the database answers and its migrations table is there. */
export function ping(db: Db): void {
  db.$client.prepare("SELECT count(*) AS n FROM schema_migrations").get();
}

export interface OpenDbOptions {
  migrationsDir?: string;
}

/**
 * Open the store and apply pending migrations: a `postgres://` URL (RELAY_DATABASE_URL) opens
 * PostgreSQL, anything else is the SQLite file (created if needed).
 */
export function openDb(target: string, options: OpenDbOptions = {}): Db {
  if (isPostgresUrl(target)) return openPostgres(target, options);
  const path = target;
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // The database holds sealed secrets and key hashes: only its owner may read it. Created here
    // with 0600 (SQLite would follow the umask), and the WAL and shm files follow its mode.
    if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  }
  const sqlite = new Database(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  migrate(sqlite, options.migrationsDir ?? join(projectRoot(), "migrations"));
  return drizzle(sqlite, { schema }) as Db;
}

/**
 * PostgreSQL: replicas starting together take turns on a session advisory lock, so each migration
 * is applied once; the others find it recorded and go on.
 */
function openPostgres(url: string, options: OpenDbOptions): Db {
  const client = new PgDatabase(url);
  try {
    client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      // The facade has the part of better-sqlite3's interface that migrate and drizzle call.
      migrate(
        client as unknown as Database.Database,
        options.migrationsDir ?? join(projectRoot(), "migrations", "postgres"),
      );
    } finally {
      client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } catch (err) {
    client.close();
    throw err;
  }
  return drizzle(client as unknown as Database.Database, { schema }) as Db;
}

export interface AppliedMigration {
  version: number;
  name: string;
}

/**
 * Apply every `NNNN_name.sql` not yet recorded in `schema_migrations`, each in its own transaction.
 * Idempotent: running it again applies nothing. A failing migration rolls back and stops start-up.
 */
export function migrate(sqlite: Database.Database, dir: string): AppliedMigration[] {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Set(
    (sqlite.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const applied: AppliedMigration[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (done.has(version)) continue;
    const sql = readFileSync(join(dir, file), "utf8");
    sqlite.transaction(() => {
      sqlite.exec(sql);
      sqlite
        .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
        .run(version, file, new Date().toISOString());
    })();
    applied.push({ version, name: file });
  }
  return applied;
}
