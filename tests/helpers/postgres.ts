import { randomBytes } from "node:crypto";
import { PgDatabase } from "../../src/store/pg.js";

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
export function createTestDatabase(): { url: string; drop(): void } {
  return createDatabase(testServerUrl());
}

/** A fresh, empty database on the server `serverUrl` names (a role that may create databases). */
export function createDatabase(serverUrl: string): { url: string; drop(): void } {
  const name = `relay_t_${randomBytes(6).toString("hex")}`;
  const admin = new PgDatabase(serverUrl);
  try {
    admin.exec(`CREATE DATABASE ${name}`);
  } finally {
    admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop() {
      const a = new PgDatabase(serverUrl);
      try {
        a.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        a.close();
      }
    },
  };
}
