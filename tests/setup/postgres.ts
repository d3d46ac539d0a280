/**
 * vitest global setup. With RELAY_TEST_STORE=postgres every test runs on PostgreSQL: the server
 * named by RELAY_TEST_DATABASE_URL (a role allowed to CREATE DATABASE), or else one this setup
 * starts (tests/helpers/pg-server.ts) and stops again.
 */
import { startPostgresServer } from "../helpers/pg-server.js";

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.RELAY_TEST_STORE !== "postgres" || process.env.RELAY_TEST_DATABASE_URL) return undefined;
  const server = await startPostgresServer();
  process.env.RELAY_TEST_DATABASE_URL = server.url;
  return () => server.stop();
}
