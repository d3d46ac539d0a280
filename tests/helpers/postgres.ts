import { randomBytes } from "node:crypto";
import pg from "pg";

/** The store this test run uses: `RELAY_TEST_STORE=postgres` runs the suite on PostgreSQL. */
export const TEST_STORE: "sqlite" | "postgres" =
  process.env.RELAY_TEST_STORE === "postgres" ? "postgres" : "sqlite";
export const onPostgres = TEST_STORE === "postgres";

/** The test PostgreSQL server (a role that may create databases). */
export function testServerUrl(): string {
  const url = process.env.RELAY_TEST_DATABASE_URL;
  if (!url)
    throw new Error("RELAY_TEST_STORE=postgres needs RELAY_TEST_DATABASE_URL (the vitest setup sets it)");
  return url;
}

/** A fresh, empty database on the test server, dropped again by `drop()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return await createDatabase(testServerUrl());
}

/** One statement on the server `url` names, on a connection of its own. */
export async function onServer(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the server `serverUrl` names (a role that may create databases). */
export async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  // The name is made here of hex digits: an identifier, which no statement takes as a parameter.
  const name = `relay_t_${randomBytes(6).toString("hex")}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
