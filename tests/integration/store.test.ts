import { join } from "node:path";
import Database from "better-sqlite3";
import { getTableColumns } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate, openDb, ping, storeKind } from "../../src/store/db.js";
import { PgDatabase } from "../../src/store/pg.js";
import { allTables } from "../../src/store/schema.js";
import { projectRoot } from "../../src/util/paths.js";
import { makeTestEnv, rowCount, type TestEnv } from "../helpers/context.js";
import { onPostgres, testServerUrl } from "../helpers/postgres.js";

// The same constraint, in each engine's words.
const UNIQUE = /UNIQUE|unique constraint/;
const CHECK = /CHECK|check constraint/;

const NOW = "2026-11-21T00:00:00.000Z";
const HASH = "a".repeat(64);

let t: TestEnv;
beforeEach(() => {
  t = makeTestEnv();
  const db = t.ctx.db.$client;
  db.prepare(
    `INSERT INTO hosts (id, name, base_url, auth_type, admin_token_sealed, admin_token_hint, status, created_at, updated_at)
     VALUES ('h1', 'one', 'https://h', 'admin_api_key', 'v1:x:y:z', 'admin-…abcd', 'supported', ?, ?)`,
  ).run(NOW, NOW);
  db.prepare(
    `INSERT INTO import_batches (id, host_id, provider_id, pack_version, mode, status, created_at, updated_at)
     VALUES ('b1', 'h1', 'deepseek', '1.0.0', 'strict', 'pending', ?, ?)`,
  ).run(NOW, NOW);
});
afterEach(() => t.cleanup());

const insertItem = (hash: string, mask = "sk-…abcd", batch = "b1") =>
  t.ctx.db.$client
    .prepare(
      `INSERT INTO import_batch_items (batch_id, position, raw_key_hash, key_mask, status, updated_at) VALUES (?, 0, ?, ?, 'pending', ?)`,
    )
    .run(batch, hash, mask, NOW);

const insertResource = (logicalKey: string, hash: string | null = null) =>
  t.ctx.db.$client
    .prepare(
      `INSERT INTO managed_resources (host_id, provider_id, batch_id, resource_type, logical_key, name, state, idempotency_key, raw_key_hash, created_at, updated_at)
       VALUES ('h1', 'deepseek', 'b1', 'account', ?, 'deepseek-aaaaaaaa', 'create_pending', 'idem', ?, ?, ?)`,
    )
    .run(logicalKey, hash, NOW, NOW);

describe("migrations", () => {
  it.skipIf(onPostgres)("apply once and are idempotent on a real file", () => {
    const sqlite = new Database(t.dbPath);
    const again = migrate(sqlite, join(projectRoot(), "migrations"));
    expect(again).toEqual([]);
    const versions = sqlite.prepare("SELECT version FROM schema_migrations").all();
    expect(versions).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
    ]);
    sqlite.close();
    // Reopening through openDb also applies nothing and keeps the data.
    const reopened = openDb(t.dbPath);
    expect((reopened.$client.prepare("SELECT name FROM hosts").get() as { name: string }).name).toBe("one");
    reopened.$client.close();
  });

  it.skipIf(!onPostgres)("apply once on PostgreSQL, and again find nothing to do", () => {
    expect(storeKind(t.ctx.db)).toBe("postgres");
    const again = migrate(t.ctx.db.$client, join(projectRoot(), "migrations", "postgres"));
    expect(again).toEqual([]);
    expect(t.ctx.db.$client.prepare("SELECT version FROM schema_migrations").all()).toEqual([
      { version: 1 },
      { version: 5 },
    ]);
  });

  it("create every table the drizzle schema declares: same columns, types and NULL rules (both stores: one schema)", () => {
    // Each column as "name type null|not null"; primary keys are never null (SQLite's rowid alias
    // reports them nullable).
    const describe = (name: string, type: string, notNull: boolean, pk: boolean) =>
      `${name} ${/int/i.test(type) ? "integer" : "text"} ${notNull || pk ? "not null" : "null"}`;
    const columnsOf = (table: string) =>
      onPostgres
        ? (
            t.ctx.db.$client
              .prepare(
                `SELECT c.column_name AS name, c.data_type AS type, c.is_nullable AS nullable,
                        EXISTS (SELECT 1 FROM information_schema.key_column_usage k
                                JOIN information_schema.table_constraints tc ON tc.constraint_name = k.constraint_name
                                WHERE tc.constraint_type = 'PRIMARY KEY' AND k.table_name = c.table_name
                                  AND k.column_name = c.column_name) AS pk
                   FROM information_schema.columns c WHERE c.table_name = ?`,
              )
              .all(table) as { name: string; type: string; nullable: string; pk: boolean }[]
          ).map((c) => describe(c.name, c.type, c.nullable === "NO", c.pk))
        : (
            t.ctx.db.$client.prepare(`PRAGMA table_info(${table})`).all() as {
              name: string;
              type: string;
              notnull: number;
              pk: number;
            }[]
          ).map((c) => describe(c.name, c.type, c.notnull === 1, c.pk > 0));
    for (const [table, def] of Object.entries(allTables)) {
      const declared = Object.values(getTableColumns(def)).map((c) =>
        describe(
          c.name,
          c.columnType === "SQLiteInteger" || c.columnType === "SQLiteBoolean" ? "int" : "text",
          c.notNull,
          c.primary,
        ),
      );
      expect(columnsOf(table).sort(), table).toEqual([...declared].sort());
    }
  });
});

describe.skipIf(!onPostgres)("the PostgreSQL connection", () => {
  it("stores any text exactly, whether a write is sent at once or queued in a transaction", () => {
    const c = t.ctx.db.$client;
    const texts = [
      `it's \\ a ? "x" on conflict ("t"."c") $1 '; DROP TABLE hosts; --`,
      "E'\\x00' \\' ''",
      "漢字 ñ 🙂 \u202e",
      "",
    ];
    const put = c.prepare("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)");
    texts.forEach((v, i) => {
      put.run(`now-${i}`, v, NOW);
    });
    c.transaction(() => {
      texts.forEach((v, i) => {
        put.run(`queued-${i}`, v, NOW);
      });
    })();
    const read = (key: string) =>
      (c.prepare("SELECT value FROM settings WHERE key = ?").get(key) as { value: string }).value;
    texts.forEach((v, i) => {
      expect(read(`now-${i}`)).toBe(v);
      expect(read(`queued-${i}`)).toBe(v);
    });
    expect(rowCount(t.ctx, "hosts")).toBe(1);
  });

  it("a transaction that fails leaves nothing, whether its writes were sent or still queued", () => {
    const c = t.ctx.db.$client;
    const put = c.prepare("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)");
    // Queued only: the failure is the COMMIT's (a duplicate key in the batch).
    expect(() =>
      c.transaction(() => {
        put.run("a", "1", NOW);
        put.run("a", "2", NOW);
      })(),
    ).toThrow(UNIQUE);
    // Sent by a read in between, then a failure in code: rolled back on the server.
    expect(() =>
      c.transaction(() => {
        put.run("b", "1", NOW);
        c.prepare("SELECT count(*) AS n FROM settings").get();
        throw new Error("changed my mind");
      })(),
    ).toThrow(/changed my mind/);
    // A failing savepoint inside a transaction that goes on.
    c.transaction(() => {
      put.run("c", "1", NOW);
      expect(() =>
        c.transaction(() => {
          put.run("d", "1", NOW);
          throw new Error("inner");
        })(),
      ).toThrow(/inner/);
    })();
    const keys = (
      c.prepare("SELECT key FROM settings WHERE key IN ('a', 'b', 'c', 'd') ORDER BY key").all() as {
        key: string;
      }[]
    ).map((r) => r.key);
    expect(keys).toEqual(["c"]);
  });

  it("a dropped connection (server restart, network) is opened again by the next statement", () => {
    const backend = () =>
      (t.ctx.db.$client.prepare("SELECT pg_backend_pid() AS pid").get() as { pid: number }).pid;
    const before = backend();
    const admin = new PgDatabase(testServerUrl());
    admin.query("SELECT pg_terminate_backend($1)", [before]);
    admin.close();
    // The statement that meets the drop may fail; the next runs on a new connection.
    try {
      ping(t.ctx.db);
    } catch {}
    ping(t.ctx.db);
    expect(backend()).not.toBe(before);
    expect(rowCount(t.ctx, "hosts")).toBe(1); // the same database, its data intact
  });
});

describe("constraints", () => {
  it("providers are unique on (pack_id, provider_id) and provider_id across packs", () => {
    const ins = t.ctx.db.$client.prepare(
      `INSERT INTO providers (pack_id, provider_id, pack_version, display_name, definition, updated_at) VALUES (?, ?, '1.0.0', 'x', '{}', ?)`,
    );
    ins.run("p1", "deepseek", NOW);
    expect(() => ins.run("p1", "deepseek", NOW)).toThrow(UNIQUE);
    expect(() => ins.run("p2", "deepseek", NOW)).toThrow(UNIQUE);
    ins.run("p1", "kimi", NOW);
    expect(rowCount(t.ctx, "providers")).toBe(2);
  });

  it("managed_resources are unique on (host, provider, type, logical key)", () => {
    insertResource("key:1");
    expect(() => insertResource("key:1")).toThrow(UNIQUE);
    insertResource("key:2");
    expect(rowCount(t.ctx, "managed_resources")).toBe(2);
  });

  it("a raw key hash is unique within one batch but may repeat across batches", () => {
    insertItem(HASH);
    expect(() => insertItem(HASH)).toThrow(UNIQUE);
    t.ctx.db.$client
      .prepare(
        `INSERT INTO import_batches (id, host_id, provider_id, pack_version, mode, status, created_at, updated_at) VALUES ('b2','h1','deepseek','1.0.0','partial','pending',?,?)`,
      )
      .run(NOW, NOW);
    insertItem(HASH, "sk-…abcd", "b2");
    expect(rowCount(t.ctx, "import_batch_items")).toBe(2);
  });

  it("no column accepts a plaintext provider key", () => {
    const plaintext = "sk-0123456789abcdef0123456789abcdef";
    expect(() => insertItem(plaintext)).toThrow(CHECK);
    expect(() => insertItem("Z".repeat(64))).toThrow(CHECK);
    expect(() => insertItem(HASH.replace(/a$/, "b"), plaintext)).toThrow(CHECK);
    expect(() => insertResource("key:x", plaintext)).toThrow(CHECK);
    expect(() =>
      t.ctx.db.$client
        .prepare(`UPDATE hosts SET admin_token_sealed = ? WHERE id = 'h1'`)
        .run(`admin-${"0".repeat(64)}`),
    ).toThrow(CHECK);
    expect(rowCount(t.ctx, "import_batch_items")).toBe(0);
  });

  it("a failing transaction leaves nothing behind", () => {
    const sqlite = t.ctx.db.$client;
    const tx = sqlite.transaction(() => {
      insertItem(HASH);
      insertResource("key:1", HASH);
      insertItem(HASH); // violates the per-batch uniqueness: the whole transaction rolls back
    });
    expect(() => tx()).toThrow(UNIQUE);
    expect(rowCount(t.ctx, "import_batch_items")).toBe(0);
    expect(rowCount(t.ctx, "managed_resources")).toBe(0);
  });

  it("rejects unknown states", () => {
    expect(() =>
      t.ctx.db.$client.prepare(`UPDATE import_batches SET status = 'done' WHERE id = 'b1'`).run(),
    ).toThrow(CHECK);
  });
});
