import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { importKeys } from "../../src/provision/import.js";
import { runRelay } from "../helpers/cli.js";
import { storedBytes, TEST_API_TOKEN } from "../helpers/context.js";
import { DEEPSEEK, mappingSnapshot, NEW, OLD, userCall, writeUpgradedPack } from "../helpers/migration.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

async function importedAndUpgradedOnDisk() {
  w = await makeWorld();
  const keys = [deepseekKey(), deepseekKey()];
  const r = await importKeys(w.t.ctx, {
    hostRef: "sim",
    providerId: "deepseek",
    keys,
    mode: "strict",
    accessMode: "subscription",
  });
  expect(r.status).toBe("succeeded");
  const dir = join(w.t.dir, "pack-1.3.0");
  writeUpgradedPack(dir);
  return { dir, keys };
}

describe("relay provider migrate (the CLI as a process)", () => {
  it("pack install names the command; dry run, plan file, apply with --yes, rollback — never printing a key", async () => {
    const { dir, keys } = await importedAndUpgradedOnDisk();
    const out: string[] = [];
    const relay = async (args: string[]) => {
      const r = await runRelay(args, { env: w.t.env });
      out.push(r.stdout, r.stderr);
      return r;
    };
    const install = await relay(["pack", "install", dir]);
    expect(install.code).toBe(0);
    expect(install.stdout).toMatch(/MODELS_RENAMED/);
    expect(install.stdout).toContain("relay provider migrate deepseek --host sim");
    w.sim.sim.upstream.setModels(DEEPSEEK, [NEW, "deepseek-v4-flash"]);
    expect((await userCall(w.sim, OLD)).status).toBe(400);
    const snapshot = mappingSnapshot(w.sim);

    const dry = await relay(["provider", "migrate", "deepseek", "--host", "sim", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`account\\s+\\S+\\s+\\d+\\s+${OLD}\\s+${OLD}\\s+${NEW}`));
    expect(dry.stdout).toMatch(new RegExp(`channel\\s+\\S+\\s+\\d+\\s+${OLD}\\s+\\(none\\)\\s+${NEW}`));
    const planFile = join(w.t.dir, "migrate.json");
    const planned = await relay(["provider", "migrate", "deepseek", "--host", "sim", "--plan-out", planFile]);
    expect(planned.code).toBe(0);
    expect(mappingSnapshot(w.sim)).toEqual(snapshot);

    // Without --yes and without a terminal: refused, nothing changed.
    const refused = await relay(["provider", "migrate", "deepseek", "--host", "sim"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--yes/);
    expect(mappingSnapshot(w.sim)).toEqual(snapshot);

    const applied = await relay([
      "--json",
      "provider",
      "migrate",
      "deepseek",
      "--host",
      "sim",
      "--plan",
      planFile,
      "--yes",
    ]);
    expect(applied.code).toBe(0);
    const result = JSON.parse(applied.stdout);
    expect(result.status).toBe("succeeded");
    expect((await userCall(w.sim, OLD)).status).toBe(200);
    const proof = await relay(["access", "status", "deepseek", "--host", "sim", "--probe", "--model", OLD]);
    expect(proof.code).toBe(0);
    // install 1.1 → import → install the renaming pack → migrate → reconcile: in sync, exit 0.
    const rec = await relay(["provider", "reconcile", "deepseek", "--host", "sim", "--json"]);
    expect(rec.code).toBe(0);
    expect(JSON.parse(rec.stdout).findings).toEqual([]);
    // The ledger lists it as what it is: a model migration of 3 mappings, no keys, no mode.
    const list = await relay(["batch", "list", "--provider", "deepseek"]);
    expect(list.stdout).toMatch(
      new RegExp(
        `${result.batch_id}\\s+deepseek\\s+sim\\s+model_migration\\s+-\\s+succeeded\\s+- \\(3 mappings\\)`,
      ),
    );
    expect(list.stdout).toMatch(/\simport\s+strict\s+succeeded\s+2\s/);

    // Applying the same plan again: the host changed since (it is migrated), so it is refused.
    const stale = await relay([
      "provider",
      "migrate",
      "deepseek",
      "--host",
      "sim",
      "--plan",
      planFile,
      "--yes",
    ]);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toMatch(/changed since the preview/);

    const preview = await relay(["batch", "rollback", result.batch_id, "--dry-run"]);
    expect(preview.stdout).toMatch(/puts back these model mappings/);
    const rolled = await relay(["batch", "rollback", result.batch_id, "--yes"]);
    expect(rolled.code).toBe(0);
    expect(mappingSnapshot(w.sim)).toEqual(snapshot);

    for (const text of [...out, readFileSync(planFile, "utf8")])
      for (const k of keys) expect(text).not.toContain(k);
    const stored = await storedBytes(w.t);
    for (const k of keys) expect(stored.includes(Buffer.from(k))).toBe(false);
  });

  it("POST /api/providers/{id}/migrate: dry_run answers the plan, then applies", async () => {
    const { dir } = await importedAndUpgradedOnDisk();
    const install = await runRelay(["pack", "install", dir], { env: w.t.env });
    expect(install.code).toBe(0);
    const app = createApp(w.t.ctx);
    const post = async (body: unknown) =>
      await app.request("/api/providers/deepseek/migrate", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const unknownField = await post({ host_id: "sim", dry: true });
    expect(unknownField.status).toBe(400);
    const dry = await post({ host_id: "sim", dry_run: true });
    expect(dry.status).toBe(200);
    const plan = (await dry.json()) as { changes: unknown[]; fingerprint: string };
    expect(plan.changes).toHaveLength(3);
    const done = await post({ host_id: "sim", expected_fingerprint: plan.fingerprint });
    expect(done.status).toBe(200);
    expect(((await done.json()) as { status: string }).status).toBe("succeeded");
    const again = await post({ host_id: "sim", expected_fingerprint: plan.fingerprint });
    expect(again.status).toBe(409);
  });
});
