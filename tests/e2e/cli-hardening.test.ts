/**
 * #29's CLI findings, each named after what went wrong: a credential in a URL argument, a stack
 * trace on an error relay did not expect, read-only commands that made a state directory.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closeDb, openDb } from "../../src/store/db.js";
import { projectRoot } from "../../src/util/paths.js";
import { runRelay } from "../helpers/cli.js";
import { TEST_MASTER_KEY } from "../helpers/context.js";

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "relay-hardening-"));
  cleanup = () => rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** An empty SQLite state (migrated), whatever store the suite's pass uses. */
async function sqliteState(dir: string): Promise<Record<string, string>> {
  await closeDb(await openDb(join(dir, "relay.db")));
  return {
    RELAY_DB_PATH: join(dir, "relay.db"),
    RELAY_DATABASE_URL: "",
    RELAY_MASTER_KEY: TEST_MASTER_KEY,
    RELAY_LOG_LEVEL: "silent",
  };
}

describe("#29 R10: credentials in URL arguments, stack traces", () => {
  it("--to 'postgres://u@h/db?password=…' passed the argv check: refused, in every URL-valued flag", async () => {
    const dir = tempDir();
    const env = await sqliteState(dir);
    const secret = "hunter2-Zq8vT2";
    const cases: [string[], string, RegExp][] = [
      [
        ["maintenance", "migrate-store", "--to", `postgres://relay@db/relay?password=${secret}`],
        "--to",
        /PGPASSWORD/,
      ],
      [
        ["maintenance", "migrate-store", `--to=postgres://relay@db/relay?sslpassword=${secret}`],
        "--to",
        /PGPASSWORD/,
      ],
      [["maintenance", "migrate-store", "--to", `postgres://relay:${secret}@db/relay`], "--to", /PGPASSWORD/],
      [
        ["host", "add", "--name", "h", "--base-url", `https://sub2api.example.com/?token=${secret}`],
        "--base-url",
        /--admin-key-file/,
      ],
    ];
    for (const [args, flag, hint] of cases) {
      const r = await runRelay(args, { env });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toContain(`error: ${flag} must not carry a password or token`);
      expect(r.stderr).toMatch(hint);
      expect(r.stderr + r.stdout).not.toContain(secret);
    }
    const json = await runRelay(["--json", ...(cases[0]?.[0] ?? [])], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "SECRET_IN_ARGUMENT" } });
  });

  it("a connection dropped during migrate-store printed a stack trace: now one line and a hint", async () => {
    const dir = tempDir();
    const env = await sqliteState(dir);
    // Accepts the connection, reads the start-up message, hangs up.
    const server: Server = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const args = ["maintenance", "migrate-store", "--to", `postgres://relay@127.0.0.1:${port}/relay`];
      const r = await runRelay(args, { env: { ...env, PGPASSWORD: "pw" } });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^error: Connection terminated unexpectedly$/);
      expect(lines[1]).toMatch(/^hint: .*--debug/);
      const json = await runRelay(["--json", ...args], { env: { ...env, PGPASSWORD: "pw" } });
      expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "INTERNAL" } });
      // The details, when asked for.
      for (const debug of [["--debug", ...args], args]) {
        const d = await runRelay(debug, {
          env: { ...env, PGPASSWORD: "pw", ...(debug === args ? { RELAY_DEBUG: "1" } : {}) },
        });
        expect(d.code).toBe(1);
        expect(d.stderr).toMatch(/^\s+at /m);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("#29 R19: read-only commands create nothing", () => {
  it("host list, provider status, batch show … on a fresh RELAY_DB_PATH made its directory and a master.key", async () => {
    const dir = tempDir();
    const state = join(dir, "state");
    const keys = join(dir, "keys.txt");
    writeFileSync(keys, "sk-0123456789abcdef0123456789abcdef\n");
    // No RELAY_MASTER_KEY: the key file next to the database is what used to appear.
    const env = { RELAY_DB_PATH: join(state, "relay.db"), RELAY_DATABASE_URL: "", RELAY_LOG_LEVEL: "silent" };
    const readOnly = [
      ["host", "list"],
      ["host", "show", "prod"],
      ["pack", "list"],
      ["pack", "show", "openai-cn-pack"],
      ["provider", "list"],
      ["provider", "status", "deepseek"],
      ["provider", "resources", "deepseek"],
      ["provider", "preview", "deepseek", "--host", "prod", "--keys-file", keys, "--mode", "strict"],
      ["batch", "list"],
      ["batch", "show", "b_20260101_0a1b2c3d4e"],
      ["batch", "rollback", "b_20260101_0a1b2c3d4e", "--dry-run"],
      ["access", "status", "deepseek", "--host", "prod"],
      ["access", "preview", "deepseek", "--host", "prod"],
    ];
    for (const args of readOnly) {
      const r = await runRelay(["--json", ...args], { env });
      expect(r.code, args.join(" ")).toBe(1);
      expect(JSON.parse(r.stdout), args.join(" ")).toMatchObject({ error: { code: "NO_STATE" } });
      expect(existsSync(state), `${args.join(" ")} created ${state}`).toBe(false);
    }
    // Lint needs no state at all: it runs, and still creates none.
    const lint = await runRelay(["--json", "pack", "lint", join(projectRoot(), "packs", "openai-cn-pack")], {
      env,
    });
    expect(JSON.parse(lint.stdout).error).toBeUndefined();
    expect(existsSync(state)).toBe(false);
    expect(readdirSync(dir)).toEqual(["keys.txt"]);
  });
});
