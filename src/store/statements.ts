import type Database from "better-sqlite3";

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * A prepared statement, compiled once per connection. For the per-key hot paths of an import,
 * where building and preparing a query for every row would cost more than the work itself.
 */
export function stmt(db: Database.Database, sql: string): Database.Statement {
  let map = cache.get(db);
  if (!map) {
    map = new Map();
    cache.set(db, map);
  }
  let s = map.get(sql);
  if (!s) {
    s = db.prepare(sql);
    map.set(sql, s);
  }
  return s;
}

const queries = new WeakMap<object, Map<string, unknown>>();

/**
 * A drizzle query built and prepared once per connection, its inputs passed as placeholders
 * (`sql.placeholder`). For the hot read endpoints: building and preparing a query costs more than
 * running it on an indexed table.
 */
export function preparedQuery<Q>(db: object, name: string, build: () => Q): Q {
  let map = queries.get(db);
  if (!map) {
    map = new Map();
    queries.set(db, map);
  }
  let q = map.get(name) as Q | undefined;
  if (q === undefined) {
    q = build();
    map.set(name, q);
  }
  return q;
}
