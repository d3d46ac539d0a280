import { getTableColumns } from "drizzle-orm";
import { conflict, invalidInput } from "../domain/errors.js";
import { chunk } from "../util/concurrency.js";
import { type Db, storeKind } from "./db.js";
import { liveLeaseCount } from "./locks.js";
import { allTables } from "./schema.js";

/**
 * Copying relay's whole state into PostgreSQL (`relay maintenance migrate-store`): every
 * table but the leases, in an order where each row's references exist before it, ids kept, in one
 * transaction on the target, read from one consistent snapshot of the source.
 */
type TableName = keyof typeof allTables;
const COPIED = (Object.keys(allTables) as TableName[]).filter((t) => t !== "locks");
const ROWS_PER_INSERT = 200;

export interface StoreCopy {
  tables: { table: string; rows: number }[];
}

function count(db: Db, sql: string): number {
  return (db.$client.prepare(sql).get() as { n: number }).n;
}

export function copyStore(from: Db, to: Db, now: Date): StoreCopy {
  if (storeKind(to) !== "postgres")
    throw invalidInput("SAME_STORE_KIND", "the target must be a PostgreSQL database (postgres://…)");
  const held = liveLeaseCount({ db: from, clock: () => now });
  if (held > 0)
    throw conflict("STORE_BUSY", `${held} lease(s) are held: an import, rollback or reconcile is running`, {
      hint: "Stop `relay serve` and let running commands finish, then copy.",
    });
  const filled = COPIED.filter((t) => count(to, `SELECT count(*) AS n FROM ${t}`) > 0);
  if (filled.length > 0)
    throw conflict("TARGET_NOT_EMPTY", `the target already holds relay state (${filled.join(", ")})`, {
      hint: "Copy into a new, empty database; relay never merges two states.",
    });

  const src = from.$client;
  const snapshot = src.transaction(() =>
    COPIED.map((table) => ({
      table,
      rows: src.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[],
    })),
  )();
  const dst = to.$client;
  dst.transaction(() => {
    for (const { table, rows } of snapshot) {
      const defs = getTableColumns(allTables[table]) as Record<string, { name: string; dataType: string }>;
      const columns = Object.values(defs).map((c) => c.name);
      const tuple = `(${columns.map(() => "?").join(", ")})`;
      for (const part of chunk(rows, ROWS_PER_INSERT)) {
        dst
          .prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${part.map(() => tuple).join(", ")}`)
          .run(...part.flatMap((row) => columns.map((c) => row[c] ?? null)));
      }
      // Ids were copied as they were: the next one the database hands out follows the largest.
      if (defs.id?.dataType === "number")
        dst
          .prepare(
            `SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`,
          )
          .get();
    }
  })();
  return { tables: snapshot.map(({ table, rows }) => ({ table, rows: rows.length })) };
}
