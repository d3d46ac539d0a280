/**
 * The PostgreSQL connections of one relay process, in a worker thread. The store calls in
 * synchronously (src/store/pg.ts waits on this worker, as better-sqlite3 waits on its file), so
 * transactions, leases and every repository read the same on both stores.
 */
import pg from "pg";
import { runAsWorker } from "synckit";

// COUNT(*) and SUM() are int8 and AVG() numeric: numbers, as SQLite gives them (relay's counts fit).
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export type PgRequest =
  | { op: "connect"; conn: number; url: string; statementTimeoutMs: number }
  | { op: "query"; conn: number; sql: string; params: unknown[]; rows: "objects" | "arrays" }
  | { op: "exec"; conn: number; sql: string }
  | { op: "close"; conn: number };

export type PgResponse =
  | { ok: true; rows: unknown[]; rowCount: number }
  | { ok: false; message: string; code?: string };

const clients = new Map<number, pg.Client>();

async function handle(req: PgRequest): Promise<PgResponse> {
  if (req.op === "connect") {
    const client = new pg.Client({ connectionString: req.url, statement_timeout: req.statementTimeoutMs });
    // A dropped connection is reported on the next statement, not as an unhandled error here.
    client.on("error", () => clients.delete(req.conn));
    await client.connect();
    clients.set(req.conn, client);
    return { ok: true, rows: [], rowCount: 0 };
  }
  const client = clients.get(req.conn);
  if (!client) return { ok: false, message: "the PostgreSQL connection is closed", code: "08003" };
  if (req.op === "close") {
    clients.delete(req.conn);
    await client.end();
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (req.op === "exec") {
    await client.query(req.sql);
    return { ok: true, rows: [], rowCount: 0 };
  }
  const r = await client.query({
    text: req.sql,
    values: req.params,
    ...(req.rows === "arrays" ? { rowMode: "array" as const } : {}),
  });
  return { ok: true, rows: r.rows, rowCount: r.rowCount ?? 0 };
}

runAsWorker(async (req: PgRequest): Promise<PgResponse> => {
  try {
    return await handle(req);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    return { ok: false, message: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) };
  }
});
