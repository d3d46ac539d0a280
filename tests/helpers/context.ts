import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RawBuilder, sql } from "kysely";
import { type AppContext, createContext } from "../../src/app/context.js";
import { loadConfig } from "../../src/config/index.js";
import { closeDb, type Db, openDb } from "../../src/store/db.js";
import { createLogger } from "../../src/util/logger.js";
import { projectRoot } from "../../src/util/paths.js";
import { createTestDatabase, onPostgres } from "./postgres.js";

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
export const TEST_API_TOKEN = "test-api-token-0123456789abcdef";

export interface TestEnv {
  dir: string;
  dbPath: string;
  ctx: AppContext;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A real store with the real migrations, and a context around it: a SQLite file in a temp
 * directory, or with RELAY_TEST_STORE=postgres a fresh database on the test PostgreSQL server
 * (`env` then carries RELAY_DATABASE_URL, so CLI processes use it too).
 */
export async function makeTestEnv(extraEnv: Record<string, string> = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), "relay-test-"));
  const dbPath = join(dir, "relay.db");
  const pg = onPostgres ? await createTestDatabase() : undefined;
  const env = {
    RELAY_DB_PATH: dbPath,
    ...(pg ? { RELAY_DATABASE_URL: pg.url } : {}),
    RELAY_MASTER_KEY: TEST_MASTER_KEY,
    RELAY_API_TOKEN: TEST_API_TOKEN,
    RELAY_LOG_LEVEL: "silent",
    // Tests install the shipped pack and fixtures by path over the API, as an operator allows.
    RELAY_PACKS_DIR: projectRoot(),
    ...extraEnv,
  };
  const config = loadConfig(env);
  const db = await openDb(pg?.url ?? dbPath);
  const ctx = await createContext({ db, config, logger: createLogger("silent") });
  return {
    dir,
    dbPath,
    ctx,
    env,
    async cleanup() {
      await closeDb(db);
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Rows of a statement written in tests (`sql` binds every value), as the store reads them: the
 * column names camelCased, JSON and flag columns parsed.
 */
export async function rows<T = Record<string, unknown>>(ctx: { db: Db }, query: RawBuilder<T>): Promise<T[]> {
  return (await query.execute(ctx.db.q)).rows;
}

/** The first row of a statement, or undefined. */
export async function row<T = Record<string, unknown>>(
  ctx: { db: Db },
  query: RawBuilder<T>,
): Promise<T | undefined> {
  return (await rows(ctx, query))[0];
}

/** A statement for its effect (a test's own write). */
export async function exec(ctx: { db: Db }, query: RawBuilder<unknown>): Promise<void> {
  await query.execute(ctx.db.q);
}

export async function rowCount(ctx: { db: Db }, table: string): Promise<number> {
  return Number((await row<{ n: number }>(ctx, sql`SELECT count(*) AS n FROM ${sql.table(table)}`))?.n);
}

/**
 * Everything the store holds, as bytes, for "no secret at rest" checks: the SQLite file with its
 * WAL folded in, or on PostgreSQL every row of every table.
 */
export async function storedBytes(t: TestEnv): Promise<Buffer> {
  if (onPostgres) {
    const tables = await rows<{ name: string }>(
      t.ctx,
      sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const all: string[] = [];
    for (const { name } of tables)
      all.push(JSON.stringify(await rows(t.ctx, sql`SELECT * FROM ${sql.table(name)}`)));
    return Buffer.from(all.join("\n"));
  }
  await exec(t.ctx, sql`PRAGMA wal_checkpoint(TRUNCATE)`);
  return readFileSync(t.dbPath);
}

/** `ctx` with every host call's operation appended to `ops` (the calls a run makes, counted). */
export function countingHostCalls<C extends AppContext>(ctx: C, ops: string[]): C {
  return {
    ...ctx,
    hostAdapter: (o) =>
      ctx.hostAdapter({
        ...o,
        onCall: (c) => {
          ops.push(c.operation);
          o.onCall?.(c);
        },
      }),
  };
}
