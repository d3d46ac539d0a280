import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppContext, createContext } from "../../src/app/context.js";
import { loadConfig } from "../../src/config/index.js";
import { openDb } from "../../src/store/db.js";
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
  cleanup(): void;
}

/**
 * A real store with the real migrations, and a context around it: a SQLite file in a temp
 * directory, or with RELAY_TEST_STORE=postgres a fresh database on the test PostgreSQL server
 * (`env` then carries RELAY_DATABASE_URL, so CLI processes use it too).
 */
export function makeTestEnv(extraEnv: Record<string, string> = {}): TestEnv {
  const dir = mkdtempSync(join(tmpdir(), "relay-test-"));
  const dbPath = join(dir, "relay.db");
  const pg = onPostgres ? createTestDatabase() : undefined;
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
  const db = openDb(pg?.url ?? dbPath);
  const ctx = createContext({ db, config, logger: createLogger("silent") });
  return {
    dir,
    dbPath,
    ctx,
    env,
    cleanup() {
      db.$client.close();
      pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function rowCount(ctx: AppContext, table: string): number {
  return (ctx.db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/**
 * Everything the store holds, as bytes, for "no secret at rest" checks: the SQLite file with its
 * WAL folded in, or on PostgreSQL every row of every table.
 */
export function storedBytes(t: TestEnv): Buffer {
  const c = t.ctx.db.$client;
  if (onPostgres) {
    const tables = c
      .prepare("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")
      .all() as { name: string }[];
    return Buffer.from(
      tables.map(({ name }) => JSON.stringify(c.prepare(`SELECT * FROM ${name}`).all())).join("\n"),
    );
  }
  c.pragma("wal_checkpoint(TRUNCATE)");
  return readFileSync(t.dbPath);
}
