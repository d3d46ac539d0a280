/**
 * `relay maintenance migrate-store`: a SQLite state built by the real CLI, copied into an empty
 * PostgreSQL database, then used there: the same answers, a rollback that leaves the host clean
 * (judged on the simulator), and a new import whose ids do not collide with the copied ones.
 * Needs a PostgreSQL server: it runs in the suite's PostgreSQL pass (`npm run test:postgres`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import { runRelay } from "../helpers/cli.js";
import { TEST_MASTER_KEY } from "../helpers/context.js";
import { createTestDatabase, onPostgres } from "../helpers/postgres.js";
import { deepseekKey, liveCount } from "../helpers/world.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe.skipIf(!onPostgres)("relay maintenance migrate-store (PostgreSQL pass)", () => {
  it("copies a live SQLite state into an empty PostgreSQL database that then works in its place", async () => {
    const sim: RunningSim = await startSimulator({ profile: "cn-native" });
    const dir = mkdtempSync(join(tmpdir(), "relay-migrate-"));
    const target = await createTestDatabase();
    cleanup = async () => {
      await sim.close();
      await target.drop();
      rmSync(dir, { recursive: true, force: true });
    };
    const sqlite = {
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: TEST_MASTER_KEY,
      RELAY_LOG_LEVEL: "silent",
      RELAY_DATABASE_URL: "",
    };
    const run = async (args: string[], env: Record<string, string>, code = 0) => {
      const r = await runRelay(args, { env, timeoutMs: 60_000 });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
      return r;
    };
    writeFileSync(join(dir, "admin.key"), sim.sim.state.adminApiKey);
    writeFileSync(join(dir, "keys.txt"), `${deepseekKey()}\n${deepseekKey()}\n`);
    await run(
      ["host", "add", "--name", "sim", "--base-url", sim.url, "--admin-key-file", join(dir, "admin.key")],
      sqlite,
    );
    await run(["pack", "install", join(projectRoot(), "packs", "openai-cn-pack")], sqlite);
    const imp = JSON.parse(
      (
        await run(
          [
            "--json",
            "provider",
            "import",
            "deepseek",
            "--host",
            "sim",
            "--keys-file",
            join(dir, "keys.txt"),
            "--mode",
            "strict",
            "--yes",
          ],
          sqlite,
        )
      ).stdout,
    ) as { batch_id: string; status: string };
    expect(imp.status).toBe("succeeded");
    const before = (await run(["--json", "provider", "status", "deepseek"], sqlite)).stdout;

    // The password never in argv: refused there, taken from PGPASSWORD.
    const url = new URL(target.url);
    const password = decodeURIComponent(url.password);
    url.password = "";
    const refused = await run(["maintenance", "migrate-store", "--to", target.url], sqlite, 1);
    expect(refused.stderr).toMatch(/--to must not carry a password[\s\S]*PGPASSWORD/);
    const copied = JSON.parse(
      (
        await run(["--json", "maintenance", "migrate-store", "--to", url.toString()], {
          ...sqlite,
          PGPASSWORD: password,
        })
      ).stdout,
    ) as { tables: { table: string; rows: number }[]; next: string };
    const rows = Object.fromEntries(copied.tables.map((t) => [t.table, t.rows]));
    expect(rows).toMatchObject({ hosts: 1, packs: 1, import_batches: 1, import_batch_items: 2 });
    expect(rows.managed_resources).toBeGreaterThanOrEqual(4); // group, channel, two accounts
    expect(copied.next).toMatch(/RELAY_DATABASE_URL=/);
    expect(JSON.stringify(copied)).not.toContain(password);

    // A second copy into the same database is refused: relay never merges two states.
    const again = await run(
      ["maintenance", "migrate-store", "--to-env", "TARGET"],
      { ...sqlite, TARGET: target.url },
      4,
    );
    expect(again.stderr).toMatch(/already holds relay state/);

    // PostgreSQL in place of the file: the same status, and the secrets still open (same key).
    const pg = { ...sqlite, RELAY_DATABASE_URL: target.url };
    expect((await run(["--json", "provider", "status", "deepseek"], pg)).stdout).toBe(before);
    await run(["host", "probe", "sim"], pg);
    const second = deepseekKey();
    writeFileSync(join(dir, "more.txt"), `${second}\n`);
    const more = JSON.parse(
      (
        await run(
          [
            "--json",
            "provider",
            "import",
            "deepseek",
            "--host",
            "sim",
            "--keys-file",
            join(dir, "more.txt"),
            "--mode",
            "strict",
            "--yes",
          ],
          pg,
        )
      ).stdout,
    ) as { status: string; batch_id: string };
    expect(more.status).toBe("succeeded"); // new rows took ids after the copied ones
    await run(["batch", "rollback", more.batch_id, "--yes"], pg);
    await run(["batch", "rollback", imp.batch_id, "--yes"], pg);
    expect(liveCount(sim)).toBe(0); // judged on the host: nothing relay made is left
  });
});
