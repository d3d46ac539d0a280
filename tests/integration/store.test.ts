import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setItem, setItems } from "../../src/store/batch-items.js";
import { inTransaction, migrate, openDb, ping, storeKind } from "../../src/store/db.js";
import { updateResources } from "../../src/store/resources.js";
import { BOOLEAN_COLUMNS, type Column, JSON_COLUMNS, snakeCase, tables } from "../../src/store/schema.js";
import { projectRoot } from "../../src/util/paths.js";
import { exec, makeTestEnv, row, rowCount, rows, type TestEnv } from "../helpers/context.js";
import { onPostgres, onServer, testServerUrl } from "../helpers/postgres.js";

// The same constraint, in each engine's words.
const UNIQUE = /UNIQUE|unique constraint/;
const CHECK = /CHECK|check constraint/;

const NOW = "2026-11-21T00:00:00.000Z";
const HASH = "a".repeat(64);

let t: TestEnv;
beforeEach(async () => {
  t = await makeTestEnv();
  await exec(
    t.ctx,
    sql`INSERT INTO hosts (id, name, base_url, auth_type, admin_token_sealed, admin_token_hint, status, created_at, updated_at)
     VALUES ('h1', 'one', 'https://h', 'admin_api_key', 'v1:x:y:z', 'admin-…abcd', 'supported', ${NOW}, ${NOW})`,
  );
  await exec(
    t.ctx,
    sql`INSERT INTO import_batches (id, host_id, provider_id, pack_version, mode, status, created_at, updated_at)
     VALUES ('b1', 'h1', 'deepseek', '1.0.0', 'strict', 'pending', ${NOW}, ${NOW})`,
  );
});
afterEach(() => t.cleanup());

const insertItem = (hash: string, mask = "sk-…abcd", batch = "b1", c = t.ctx) =>
  exec(
    c,
    sql`INSERT INTO import_batch_items (batch_id, position, raw_key_hash, key_mask, status, updated_at) VALUES (${batch}, 0, ${hash}, ${mask}, 'pending', ${NOW})`,
  );

const insertResource = (logicalKey: string, hash: string | null = null, c = t.ctx) =>
  exec(
    c,
    sql`INSERT INTO managed_resources (host_id, provider_id, batch_id, resource_type, logical_key, name, state, idempotency_key, raw_key_hash, created_at, updated_at)
       VALUES ('h1', 'deepseek', 'b1', 'account', ${logicalKey}, 'deepseek-aaaaaaaa', 'create_pending', 'idem', ${hash}, ${NOW}, ${NOW})`,
  );

/** SQLite applies a migration file through better-sqlite3's own `exec` (openDb does); this runner is never reached here. */
const noScript = async () => {
  throw new Error("a migration was applied again");
};

describe("migrations", () => {
  it.skipIf(onPostgres)("apply once and are idempotent on a real file", async () => {
    expect(await migrate(t.ctx.db, join(projectRoot(), "migrations"), noScript)).toEqual([]);
    expect(await rows(t.ctx, sql`SELECT version FROM schema_migrations`)).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
      { version: 6 },
      { version: 7 },
      { version: 8 },
    ]);
    // Reopening through openDb also applies nothing and keeps the data.
    const reopened = await openDb(t.dbPath);
    expect((await row<{ name: string }>({ db: reopened }, sql`SELECT name FROM hosts`))?.name).toBe("one");
    await reopened.root.destroy();
  });

  it.skipIf(!onPostgres)("apply once on PostgreSQL, and again find nothing to do", async () => {
    expect(storeKind(t.ctx.db)).toBe("postgres");
    expect(await migrate(t.ctx.db, join(projectRoot(), "migrations", "postgres"), noScript)).toEqual([]);
    expect(await rows(t.ctx, sql`SELECT version FROM schema_migrations`)).toEqual([
      { version: 1 },
      { version: 5 },
      { version: 6 },
      { version: 7 },
      { version: 8 },
    ]);
  });

  it("create every table the schema declares: same columns, types and NULL rules (both stores: one schema)", async () => {
    // Each column as "name type null|not null"; primary keys are never null (SQLite's rowid alias
    // reports them nullable).
    const describe = (name: string, type: string, notNull: boolean, pk: boolean) =>
      `${name} ${/int/i.test(type) ? "integer" : "text"} ${notNull || pk ? "not null" : "null"}`;
    const columnsOf = async (table: string) =>
      onPostgres
        ? (
            await rows<{ name: string; type: string; nullable: string; pk: boolean }>(
              t.ctx,
              sql`SELECT c.column_name AS name, c.data_type AS type, c.is_nullable AS nullable,
                        EXISTS (SELECT 1 FROM information_schema.key_column_usage k
                                JOIN information_schema.table_constraints tc ON tc.constraint_name = k.constraint_name
                                WHERE tc.constraint_type = 'PRIMARY KEY' AND k.table_name = c.table_name
                                  AND k.column_name = c.column_name) AS pk
                   FROM information_schema.columns c WHERE c.table_name = ${table}`,
            )
          ).map((c) => describe(c.name, c.type, c.nullable === "NO", c.pk))
        : (
            await rows<{ name: string; type: string; notnull: number; pk: number }>(
              t.ctx,
              sql`SELECT name, type, "notnull", pk FROM pragma_table_info(${table})`,
            )
          ).map((c) => describe(c.name, c.type, c.notnull === 1, c.pk > 0));
    for (const [table, columns] of Object.entries(tables)) {
      const declared = (Object.entries(columns) as [string, Column<unknown>][]).map(([name, c]) =>
        describe(
          snakeCase(name),
          c.kind === "integer" || c.kind === "boolean" ? "int" : "text",
          !c.nullable,
          false,
        ),
      );
      expect((await columnsOf(table)).sort(), table).toEqual([...declared].sort());
    }
  });

  it("declares each column name with one kind in every table (the value plugin converts by name)", () => {
    const kinds = new Map<string, Set<string>>();
    for (const columns of Object.values(tables))
      for (const [name, c] of Object.entries(columns) as [string, Column<unknown>][])
        kinds.set(name, (kinds.get(name) ?? new Set()).add(c.kind));
    const mixed = [...kinds].filter(
      ([name, k]) => k.size > 1 && (JSON_COLUMNS.has(name) || BOOLEAN_COLUMNS.has(name)),
    );
    expect(mixed).toEqual([]);
    expect(JSON_COLUMNS.has("statusReasons")).toBe(true);
    expect(BOOLEAN_COLUMNS.has("isCurrent")).toBe(true);
  });
});

describe("values", () => {
  it("stores any text exactly, bound as a parameter (inside a transaction or not)", async () => {
    const texts = [
      `it's \\ a ? "x" on conflict ("t"."c") $1 '; DROP TABLE hosts; --`,
      "E'\\x00' \\' ''",
      "漢字 ñ 🙂 \u202e",
      "",
    ];
    const put = (c: { db: TestEnv["ctx"]["db"] }, key: string, v: string) =>
      exec(c, sql`INSERT INTO settings (key, value, updated_at) VALUES (${key}, ${v}, ${NOW})`);
    for (const [i, v] of texts.entries()) await put(t.ctx, `now-${i}`, v);
    await inTransaction(t.ctx, async (tx) => {
      for (const [i, v] of texts.entries()) await put(tx, `tx-${i}`, v);
    });
    const read = async (key: string) =>
      (await row<{ value: string }>(t.ctx, sql`SELECT value FROM settings WHERE key = ${key}`))?.value;
    for (const [i, v] of texts.entries()) {
      expect(await read(`now-${i}`)).toBe(v);
      expect(await read(`tx-${i}`)).toBe(v);
    }
    expect(await rowCount(t.ctx, "hosts")).toBe(1);
  });

  it("writes objects as JSON text and flags as 0/1, and reads them back as values", async () => {
    await t.ctx.db.q
      .insertInto("packs")
      .values({
        packId: "p",
        version: "1.0.0",
        name: "p",
        description: "",
        manifest: { pack_id: "p" } as never,
        contentHash: "h",
        source: "s",
        isCurrent: true,
        installedAt: NOW,
      })
      .execute();
    expect(await row(t.ctx, sql`SELECT manifest AS text, is_current AS flag FROM packs`)).toEqual({
      text: '{"pack_id":"p"}',
      flag: 1,
    });
    const read = await t.ctx.db.q.selectFrom("packs").select(["manifest", "isCurrent"]).executeTakeFirst();
    expect(read).toEqual({ manifest: { pack_id: "p" }, isCurrent: true });
  });

  it.skipIf(!onPostgres)(
    "refuses text with U+0000 on PostgreSQL as bad input, before sending it",
    async () => {
      await expect(
        exec(t.ctx, sql`INSERT INTO settings (key, value, updated_at) VALUES ('nul', ${"a\u0000b"}, ${NOW})`),
      ).rejects.toMatchObject({ code: "INVALID_TEXT" });
      expect(await row(t.ctx, sql`SELECT key FROM settings WHERE key = 'nul'`)).toBeUndefined();
    },
  );
});

describe("transactions", () => {
  it("a transaction that fails leaves nothing behind, whether a statement or the code failed", async () => {
    await expect(
      inTransaction(t.ctx, async (tx) => {
        await insertItem(HASH, undefined, undefined, tx);
        await insertResource("key:1", HASH, tx);
        await insertItem(HASH, undefined, undefined, tx); // violates the per-batch uniqueness
      }),
    ).rejects.toThrow(UNIQUE);
    await expect(
      inTransaction(t.ctx, async (tx) => {
        await insertResource("key:2", HASH, tx);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow(/changed my mind/);
    expect(await rowCount(t.ctx, "import_batch_items")).toBe(0);
    expect(await rowCount(t.ctx, "managed_resources")).toBe(0);
  });

  it("an IMMEDIATE transaction keeps another one from interleaving its read and write", async () => {
    // Two claims that read a counter and write it back: serialised, neither loses the other's write.
    await exec(t.ctx, sql`INSERT INTO settings (key, value, updated_at) VALUES ('n', '0', ${NOW})`);
    const bump = () =>
      inTransaction(
        t.ctx,
        async (tx) => {
          const n = Number(
            (await row<{ value: string }>(tx, sql`SELECT value FROM settings WHERE key = 'n'`))?.value,
          );
          await exec(tx, sql`UPDATE settings SET value = ${String(n + 1)} WHERE key = 'n'`);
        },
        { immediate: true },
      );
    await Promise.all(Array.from({ length: 8 }, bump));
    expect(
      (await row<{ value: string }>(t.ctx, sql`SELECT value FROM settings WHERE key = 'n'`))?.value,
    ).toBe("8");
  });
});

describe.skipIf(!onPostgres)("the PostgreSQL pool", () => {
  it("a dropped connection (server restart, network) is replaced by the pool", async () => {
    const backends = async () =>
      (
        await rows<{ pid: number }>(
          t.ctx,
          sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
        )
      ).map((r) => r.pid);
    const before = (await row<{ pid: number }>(t.ctx, sql`SELECT pg_backend_pid() AS pid`))?.pid;
    await onServer(
      testServerUrl(),
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
      [new URL(t.env.RELAY_DATABASE_URL as string).pathname.slice(1)],
    );
    // The statement that meets the drop may fail; the next runs on a new connection.
    try {
      await ping(t.ctx.db);
    } catch {}
    await ping(t.ctx.db);
    expect(await backends()).not.toContain(before);
    expect(await rowCount(t.ctx, "hosts")).toBe(1); // the same database, its data intact
  });

  it("cancels a statement past the statement timeout, and the pool goes on", async () => {
    const db = await openDb(t.env.RELAY_DATABASE_URL as string, { statementTimeoutMs: 200, poolSize: 2 });
    try {
      await expect(sql`SELECT pg_sleep(5)`.execute(db.q)).rejects.toThrow(/statement timeout/);
      expect((await row<{ n: number }>({ db }, sql`SELECT count(*) AS n FROM hosts`))?.n).toBe(1);
    } finally {
      await db.root.destroy();
    }
  });
});

describe("constraints", () => {
  it("providers are unique on (pack_id, provider_id) and provider_id across packs", async () => {
    const ins = (pack: string, provider: string) =>
      exec(
        t.ctx,
        sql`INSERT INTO providers (pack_id, provider_id, pack_version, display_name, definition, updated_at) VALUES (${pack}, ${provider}, '1.0.0', 'x', '{}', ${NOW})`,
      );
    await ins("p1", "deepseek");
    await expect(ins("p1", "deepseek")).rejects.toThrow(UNIQUE);
    await expect(ins("p2", "deepseek")).rejects.toThrow(UNIQUE);
    await ins("p1", "kimi");
    expect(await rowCount(t.ctx, "providers")).toBe(2);
  });

  it("managed_resources are unique on (host, provider, type, logical key)", async () => {
    await insertResource("key:1");
    await expect(insertResource("key:1")).rejects.toThrow(UNIQUE);
    await insertResource("key:2");
    expect(await rowCount(t.ctx, "managed_resources")).toBe(2);
  });

  it("a raw key hash is unique within one batch but may repeat across batches", async () => {
    await insertItem(HASH);
    await expect(insertItem(HASH)).rejects.toThrow(UNIQUE);
    await exec(
      t.ctx,
      sql`INSERT INTO import_batches (id, host_id, provider_id, pack_version, mode, status, created_at, updated_at) VALUES ('b2','h1','deepseek','1.0.0','partial','pending',${NOW},${NOW})`,
    );
    await insertItem(HASH, "sk-…abcd", "b2");
    expect(await rowCount(t.ctx, "import_batch_items")).toBe(2);
  });

  it("no column accepts a plaintext provider key", async () => {
    const plaintext = "sk-0123456789abcdef0123456789abcdef";
    await expect(insertItem(plaintext)).rejects.toThrow(CHECK);
    await expect(insertItem("Z".repeat(64))).rejects.toThrow(CHECK);
    await expect(insertItem(HASH.replace(/a$/, "b"), plaintext)).rejects.toThrow(CHECK);
    await expect(insertResource("key:x", plaintext)).rejects.toThrow(CHECK);
    await expect(
      exec(t.ctx, sql`UPDATE hosts SET admin_token_sealed = ${`admin-${"0".repeat(64)}`} WHERE id = 'h1'`),
    ).rejects.toThrow(CHECK);
    expect(await rowCount(t.ctx, "import_batch_items")).toBe(0);
  });

  it("rejects unknown states", async () => {
    await expect(exec(t.ctx, sql`UPDATE import_batches SET status = 'done' WHERE id = 'b1'`)).rejects.toThrow(
      CHECK,
    );
  });
});

describe("set-based writes (one statement per hundred rows)", () => {
  it("setItems sets each key's own columns and merges each key's own result, like setItem one by one", async () => {
    const hashes = Array.from({ length: 150 }, (_, i) => i.toString(16).padStart(64, "0"));
    for (const h of hashes) await insertItem(h);
    await setItem(t.ctx, "b1", hashes[0] as string, { result: { kept: true } });
    await setItems(
      t.ctx,
      "b1",
      hashes.map((hash, i) =>
        i % 2 === 0
          ? { hash, status: "created" as const, result: { account_id: i } }
          : {
              hash,
              status: "failed" as const,
              errorCode: "X",
              errorMessage: `it's "refused" ${i}`,
              result: {},
            },
      ),
    );
    await setItems(t.ctx, "b1", [{ hash: hashes[0] as string, result: { models: ["m"] } }]); // status untouched
    const items = await rows<{
      raw_key_hash: string;
      status: string;
      error_message: string | null;
      result: string;
    }>(
      t.ctx,
      sql`SELECT raw_key_hash, status, error_message, result FROM import_batch_items WHERE batch_id = 'b1' ORDER BY raw_key_hash`,
    );
    expect(items).toHaveLength(150);
    expect(items[0]?.status).toBe("created");
    expect(items[0]?.result).toEqual({ kept: true, account_id: 0, models: ["m"] });
    expect(items[149]).toMatchObject({ status: "failed", errorMessage: `it's "refused" 149` });
    expect(items[148]?.result).toEqual({ account_id: 148 });
  });

  it("updateResources gives each row its own state and host id, and leaves other rows alone", async () => {
    for (const k of ["a", "b", "c"]) await insertResource(k);
    const ids = (
      await rows<{ id: number }>(t.ctx, sql`SELECT id FROM managed_resources ORDER BY logical_key`)
    ).map((r) => Number(r.id));
    await updateResources(t.ctx, [
      { id: ids[0] as number, state: "created", hostResourceId: 41 },
      { id: ids[1] as number, state: "failed" },
    ]);
    const after = await rows<{ state: string; hostResourceId: number | null }>(
      t.ctx,
      sql`SELECT state, host_resource_id FROM managed_resources ORDER BY logical_key`,
    );
    expect(after.map((r) => [r.state, r.hostResourceId === null ? null : Number(r.hostResourceId)])).toEqual([
      ["created", 41],
      ["failed", null],
      ["create_pending", null],
    ]);
  });
});
