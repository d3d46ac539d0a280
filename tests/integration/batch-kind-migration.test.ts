import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { getBatch, listBatches } from "../../src/store/batches.js";
import { closeDb, type Db, openDb } from "../../src/store/db.js";
import { projectRoot } from "../../src/util/paths.js";
import { createTestDatabase, onPostgres } from "../helpers/postgres.js";

const NOW = "2026-12-01T00:00:00.000Z";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The engine's migration files up to 0007: a store as the release before 0008 left it. */
function migrationsUpTo7(engineDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), "relay-mig-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of readdirSync(engineDir).filter(
    (f) => /^\d{4}_.*\.sql$/.test(f) && Number(f.slice(0, 4)) <= 7,
  ))
    cpSync(join(engineDir, f), join(dir, f));
  return dir;
}

/** A store at 0007 with an import, a rotation and a model migration (kind in its options) batch. */
async function seed07(db: Db): Promise<void> {
  const q = db.q;
  await sql`INSERT INTO hosts (id, name, base_url, auth_type, admin_token_sealed, admin_token_hint, status, created_at, updated_at)
    VALUES ('h1', 'one', 'https://h', 'admin_api_key', 'v1:x:y:z', 'admin-…abcd', 'supported', ${NOW}, ${NOW})`.execute(
    q,
  );
  const batch = (id: string, kind: string, options: string, keys: number) =>
    sql`INSERT INTO import_batches (id, host_id, provider_id, pack_version, mode, kind, status, options, key_count, created_at, updated_at)
      VALUES (${id}, 'h1', 'deepseek', '1.3.0', 'strict', ${kind}, 'succeeded', ${options}, ${keys}, ${NOW}, ${NOW})`.execute(
      q,
    );
  await batch("b_import", "import", '{"probe":true}', 3);
  await batch("b_rotation", "rotation", "{}", 1);
  await batch("b_migration", "import", '{"kind":"model_migration","renames":[{"from":"a","to":"b"}]}', 0);
  for (const [target, id] of [
    ["account", 11],
    ["channel", 5],
  ] as const)
    await sql`INSERT INTO mapping_changes (batch_id, host_id, provider_id, target, host_resource_id, name, aliases, mapping_before, mapping_after, state, created_at, updated_at)
      VALUES ('b_migration', 'h1', 'deepseek', ${target}, ${id}, ${`${target}-x`}, '[{"from":"a","to":"b"}]', '{}', '{}', 'applied', ${NOW}, ${NOW})`.execute(
      q,
    );
}

async function expectUpgraded(db: Db): Promise<void> {
  const s = { db, clock: () => new Date(NOW) };
  const list = await listBatches(s);
  const byId = new Map(list.map((b) => [b.batch_id, b]));
  expect(byId.get("b_import")).toMatchObject({ kind: "import", keys: 3, changes: null });
  expect(byId.get("b_rotation")).toMatchObject({ kind: "rotation", keys: 1, changes: null });
  expect(byId.get("b_migration")).toMatchObject({ kind: "model_migration", keys: 0, changes: 2 });
  const shown = await getBatch(s, "b_migration");
  expect(shown.kind).toBe("model_migration");
  expect(shown.changes.map((c) => [c.target, c.host_resource_id, c.state])).toEqual([
    ["account", 11, "applied"],
    ["channel", 5, "applied"],
  ]);
  expect((await getBatch(s, "b_import")).changes).toEqual([]);
  // The column still refuses what no batch is, and the rows that point at batches still do.
  await expect(
    sql`UPDATE import_batches SET kind = 'other' WHERE id = 'b_import'`.execute(db.q),
  ).rejects.toThrow(/CHECK|check constraint/);
  const n = await sql<{
    n: number;
  }>`SELECT count(*) AS n FROM mapping_changes WHERE batch_id = 'b_migration'`.execute(db.q);
  expect(Number(n.rows[0]?.n)).toBe(2);
}

describe("migration 0008: a model migration is a batch kind of its own", () => {
  it.skipIf(onPostgres)("upgrades a SQLite store from 0007: options.kind moves into the column", async () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-db-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "relay.db");
    const old = await openDb(path, { migrationsDir: migrationsUpTo7(join(projectRoot(), "migrations")) });
    await seed07(old);
    await closeDb(old);
    const db = await openDb(path);
    cleanups.push(() => closeDb(db));
    await expectUpgraded(db);
    const fk = await sql<{ n: number }>`SELECT count(*) AS n FROM pragma_foreign_key_check`.execute(db.q);
    expect(Number(fk.rows[0]?.n)).toBe(0);
  });

  it.skipIf(!onPostgres)(
    "upgrades a PostgreSQL store from 0007: options.kind moves into the column",
    async () => {
      const created = await createTestDatabase();
      cleanups.push(() => created.drop());
      const old = await openDb(created.url, {
        migrationsDir: migrationsUpTo7(join(projectRoot(), "migrations", "postgres")),
      });
      await seed07(old);
      await closeDb(old);
      const db = await openDb(created.url);
      cleanups.push(() => closeDb(db));
      await expectUpgraded(db);
    },
  );
});
