import { sql } from "kysely";
import { conflict, invalidInput } from "../domain/errors.js";
import { chunk } from "../util/concurrency.js";
import { type Db, inTransaction } from "./db.js";
import { liveLeaseCount } from "./locks.js";
import { type Column, snakeCase, type TableName, tables } from "./schema.js";

/**
 * Copying relay's whole state into PostgreSQL (`relay maintenance migrate-store`): every
 * table but the leases, in an order where each row's references exist before it, ids kept, in one
 * transaction on the target, read from one consistent snapshot of the source.
 */
const COPIED = (Object.keys(tables) as TableName[]).filter((t) => t !== "locks");
const ROWS_PER_INSERT = 200;

export interface StoreCopy {
  tables: { table: string; rows: number }[];
}

type RawRow = Record<string, unknown>;

async function count(db: Db, table: TableName): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db.q);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Every column schema.ts declares, by name, with its value bound (JSON read as values is written
 * back as JSON text, flags as 0/1: the store's value plugin, both ways).
 */
export async function copyStore(from: Db, to: Db, now: Date): Promise<StoreCopy> {
  if (to.kind !== "postgres")
    throw invalidInput("SAME_STORE_KIND", "the target must be a PostgreSQL database (postgres://…)");
  const held = await liveLeaseCount({ db: from, clock: () => now });
  if (held > 0)
    throw conflict("STORE_BUSY", `${held} lease(s) are held: an import, rollback or reconcile is running`, {
      hint: "Stop `relay serve` and let running commands finish, then copy.",
    });
  const filled: string[] = [];
  for (const t of COPIED) if ((await count(to, t)) > 0) filled.push(t);
  if (filled.length > 0)
    throw conflict("TARGET_NOT_EMPTY", `the target already holds relay state (${filled.join(", ")})`, {
      hint: "Copy into a new, empty database; relay never merges two states.",
    });

  const clock = () => now;
  const snapshot = await inTransaction({ db: from, clock }, async ({ db: { q } }) => {
    const out: { table: TableName; rows: RawRow[] }[] = [];
    for (const table of COPIED) {
      const columns = Object.keys(tables[table]).map((c) => sql.ref(snakeCase(c)));
      const { rows } = await sql<RawRow>`SELECT ${sql.join(columns)} FROM ${sql.table(table)}`.execute(q);
      out.push({ table, rows });
    }
    return out;
  });
  await inTransaction({ db: to, clock }, async ({ db: { q } }) => {
    for (const { table, rows } of snapshot) {
      const defs = Object.entries(tables[table]) as [string, Column<unknown>][];
      const names = sql.join(defs.map(([c]) => sql.ref(snakeCase(c))));
      for (const part of chunk(rows, ROWS_PER_INSERT)) {
        // The store's plugin camelCased the names it read.
        const tuples = part.map((row) => sql`(${sql.join(defs.map(([c]) => row[c] ?? null))})`);
        await sql`INSERT INTO ${sql.table(table)} (${names}) VALUES ${sql.join(tuples)}`.execute(q);
      }
      // Ids were copied as they were: the next one the database hands out follows the largest.
      if (defs.some(([c, d]) => c === "id" && d.kind === "integer"))
        await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), coalesce((SELECT max(id) FROM ${sql.table(table)}), 0) + 1, false)`.execute(
          q,
        );
    }
  });
  return { tables: snapshot.map(({ table, rows }) => ({ table, rows: rows.length })) };
}
