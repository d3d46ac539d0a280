import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addHost } from "../../src/hosts/hosts.js";
import { importKeys } from "../../src/provision/import.js";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

let w: World;
let other: RunningSim | undefined;
afterEach(async () => {
  await other?.close();
  other = undefined;
  await w?.close();
});

// #16, named after what got in the way of a new operator.
describe("operator experience", () => {
  it("relay host list in another directory no longer creates ./data/relay.db and master.key", async () => {
    w = await makeWorld();
    const elsewhere = join(w.t.dir, "elsewhere", "relay.db");
    const r = await runRelay(["host", "list"], {
      env: { ...w.t.env, RELAY_DB_PATH: elsewhere, RELAY_DATABASE_URL: "" },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no state at .*elsewhere\/relay\.db/);
    expect(existsSync(join(w.t.dir, "elsewhere"))).toBe(false);
  });

  it("batch rollback deletes without confirmation: now --dry-run lists, and --yes is needed off a terminal", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const dry = await runRelay(["batch", "rollback", r.batch_id, "--dry-run"], { env: w.t.env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/a rollback deletes, in this order:[\s\S]*account[\s\S]*channel[\s\S]*group/);
    const refused = await runRelay(["batch", "rollback", r.batch_id], { env: w.t.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/add --yes/);
    expect(liveCount(w.sim, r.batch_id)).toBeGreaterThan(0); // nothing was changed
    const done = await runRelay(["batch", "rollback", r.batch_id, "--yes"], { env: w.t.env });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/rolled back in \d+ ms/);
    expect(liveCount(w.sim, r.batch_id)).toBe(0);
  });

  it("reconcile run --all --host cn ignored --host; output showed host ids; --json >> file wrote multi-line JSON", async () => {
    w = await makeWorld();
    other = await startSimulator();
    await addHost(w.t.ctx, { name: "other", baseUrl: other.url, adminKey: other.sim.state.adminApiKey });
    for (const hostRef of ["sim", "other"])
      await importKeys(w.t.ctx, { hostRef, providerId: "deepseek", keys: [deepseekKey()], mode: "strict" });
    const metrics = join(w.t.dir, "relay.prom");
    const r = await runRelay(
      ["--json", "reconcile", "run", "--all", "--host", "other", "--metrics-file", metrics],
      {
        env: w.t.env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(1); // one JSON document per line off a terminal
    const { items } = JSON.parse(r.stdout);
    expect(items.map((i: { host_name: string }) => i.host_name)).toEqual(["other"]);
    expect(readFileSync(metrics, "utf8")).toMatch(
      /relay_reconcile_run_providers\{host="other",outcome="ok"\} 1/,
    );
    const human = await runRelay(["reconcile", "run", "--all", "--host", "sim"], { env: w.t.env });
    expect(human.stdout).toMatch(/deepseek\s+sim\s+ok/);
  });

  it("usage errors were plain text under --json", async () => {
    w = await makeWorld();
    const r = await runRelay(["--json", "host", "show"], { env: w.t.env });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: "USAGE" } });
    const plan = await runRelay(["--json", "provider", "import", "deepseek", "--keys-file", "-"], {
      env: w.t.env,
    });
    expect(JSON.parse(plan.stdout)).toMatchObject({
      error: { code: "USAGE", message: expect.stringMatching(/--host is required/) },
    });
  });

  it("the keys file: a trailing newline is not a 'blank line ignored', and a missing file says so", async () => {
    w = await makeWorld();
    const keys = join(w.t.dir, "k.txt");
    writeFileSync(keys, `${deepseekKey()}\n${deepseekKey()}\n`);
    const preview = await runRelay(
      ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", keys],
      { env: w.t.env },
    );
    expect(preview.stdout).toMatch(/0 duplicate\(s\) and 0 blank\/comment line\(s\) ignored/);
    const missing = await runRelay(
      ["provider", "preview", "deepseek", "--host", "sim", "--keys-file", join(w.t.dir, "nope.keys")],
      {
        env: w.t.env,
      },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot use the key file: no such file/);
  });

  it("rollback's 'duration' was the batch's age: the import's own duration stays after a rollback", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const before = JSON.parse(
      (await runRelay(["--json", "batch", "show", r.batch_id], { env: w.t.env })).stdout,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await runRelay(["batch", "rollback", r.batch_id, "--yes"], { env: w.t.env });
    const after = JSON.parse(
      (await runRelay(["--json", "batch", "show", r.batch_id], { env: w.t.env })).stdout,
    );
    expect(after.status).toBe("rolled_back");
    expect(after.duration_ms).toBe(before.duration_ms);
  });
});
