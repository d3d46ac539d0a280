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

export type PgResponse = { ok: true; rows: unknown[] } | { ok: false; message: string; code?: string };

const CONNECT_TIMEOUT_MS = 10_000;
const clients = new Map<number, pg.Client>();
const settings = new Map<number, { url: string; statementTimeoutMs: number }>();

/**
 * The repositories' statements are a fixed set; statements built with a varying number of
 * placeholders are not. Past this many distinct texts, new ones run unnamed, so a long-running
 * process cannot fill the server's memory with prepared statements.
 */
const MAX_NAMED = 500;
const names = new Map<string, string>();
function statementName(sql: string): string | undefined {
  let name = names.get(sql);
  if (!name && names.size < MAX_NAMED) {
    name = `relay_${names.size + 1}`;
    names.set(sql, name);
  }
  return name;
}

async function connect(conn: number): Promise<pg.Client> {
  const how = settings.get(conn);
  if (!how) throw Object.assign(new Error("the PostgreSQL connection is closed"), { code: "08003" });
  const client = new pg.Client({
    connectionString: how.url,
    statement_timeout: how.statementTimeoutMs,
    // A server that accepts nothing (a black-holed address) fails the statement, not the process.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A dropped connection (server restart, network) is forgotten here and opened again by the
  // next statement; the statement that met the drop fails, as it would on any driver. While the
  // server is away each statement fails at once (the connect is refused or times out), and the
  // callers retry at their own pace: relay never waits on a dead server.
  const forget = () => {
    if (clients.get(conn) === client) clients.delete(conn);
  };
  client.on("error", forget);
  client.on("end", forget);
  await client.connect();
  clients.set(conn, client);
  return client;
}

async function handle(req: PgRequest): Promise<PgResponse> {
  if (req.op === "connect") {
    settings.set(req.conn, { url: req.url, statementTimeoutMs: req.statementTimeoutMs });
    await connect(req.conn);
    return { ok: true, rows: [] };
  }
  if (req.op === "close") {
    const client = clients.get(req.conn);
    clients.delete(req.conn);
    settings.delete(req.conn);
    await client?.end();
    return { ok: true, rows: [] };
  }
  const client = clients.get(req.conn) ?? (await connect(req.conn));
  if (req.op === "exec") {
    await client.query(req.sql);
    return { ok: true, rows: [] };
  }
  const name = statementName(req.sql);
  const r = await client.query({
    // Named: PostgreSQL parses and plans each distinct statement once per connection.
    ...(name ? { name } : {}),
    text: req.sql,
    values: req.params,
    ...(req.rows === "arrays" ? { rowMode: "array" as const } : {}),
  });
  return { ok: true, rows: r.rows };
}

runAsWorker(async (req: PgRequest): Promise<PgResponse> => {
  try {
    return await handle(req);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    return { ok: false, message: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) };
  }
});
