import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { importKeys } from "../../src/provision/import.js";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const relay = (args: string[]) => runRelay(args, { env: w.t.env });

describe("relay provider rotate (the CLI as a process)", () => {
  it("revoked keys are reported with the rotate command; rotate --accounts revoked brings the same accounts back, no key anywhere", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey(), deepseekKey(), deepseekKey(), deepseekKey()];
    await importKeys(w.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    const revoked = keys.slice(0, 2);
    for (const k of revoked) w.sim.sim.upstream.revoke(k);
    const ids = revoked.map((k) => liveOnHost(w.sim).accounts.find((a) => a.credentials.api_key === k)?.id);
    const before = liveOnHost(w.sim)
      .accounts.map((a) => ({ id: a.id, name: a.name, groups: [...a.groupIds] }))
      .sort((a, b) => a.id - b.id);

    // The reconcile's tests meet the 401s; the host puts both in error; the policy points at rotation.
    const rec = await relay(["reconcile", "run", "deepseek", "--host", "sim", "--enforce"]);
    for (const id of ids)
      expect(rec.stdout).toContain(
        `relay provider rotate deepseek --host sim --keys-file NEW --accounts ${id}`,
      );
    // The next run's policy sees them in error and out of scheduling: left alone, rotation offered.
    const rec2 = await relay(["reconcile", "run", "deepseek", "--host", "sim", "--enforce"]);
    expect(rec2.stdout).toMatch(
      /untouched .*rotate its key \(`relay provider rotate PROVIDER --host HOST --keys-file NEW --accounts revoked`\)/,
    );
    for (const id of ids)
      expect(w.sim.sim.state.accounts.get(id as number)).toMatchObject({
        status: "error",
        schedulable: false,
      });

    const fresh = [deepseekKey(), deepseekKey()];
    const newFile = join(w.t.dir, "new.keys");
    const oldFile = join(w.t.dir, "old.keys");
    const planFile = join(w.t.dir, "rotation.json");
    writeFileSync(newFile, `${fresh.join("\n")}\n`);
    writeFileSync(oldFile, `${revoked.join("\n")}\n`);
    const base = [
      "provider",
      "rotate",
      "deepseek",
      "--host",
      "sim",
      "--keys-file",
      newFile,
      "--old-keys-file",
      oldFile,
    ];
    const outputs: string[] = [];

    const dry = await relay([...base, "--accounts", "revoked", "--dry-run"]);
    outputs.push(dry.stdout, dry.stderr);
    expect(dry.code, dry.stderr).toBe(0);
    if (process.env.PEEK) console.log(dry.stdout);
    expect(dry.stdout).toMatch(/2 account\(s\) chosen, 2 ready new key\(s\), 2 with their old key given/);
    for (const id of ids)
      expect(dry.stdout).toMatch(new RegExp(`\\b${id}\\b.*revoked.*host.*old key put back`));
    const planned = await relay(["--json", ...base, "--plan-out", planFile]);
    outputs.push(planned.stdout, planned.stderr, readFileSync(planFile, "utf8"));
    expect(JSON.parse(planned.stdout).accounts).toHaveLength(2);
    expect(w.sim.sim.writes.filter((x) => x.startsWith("PUT") || x.endsWith("/schedulable"))).toEqual([]);

    const unconfirmed = await relay(base);
    outputs.push(unconfirmed.stdout, unconfirmed.stderr);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/add --yes/);

    const run = await relay(["--json", ...base, "--plan", planFile, "--yes"]);
    outputs.push(run.stdout, run.stderr);
    expect(run.code, run.stderr).toBe(0);
    if (process.env.PEEK)
      console.log((await relay(["batch", "show", JSON.parse(run.stdout).batch_id])).stdout);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ status: "succeeded", summary: { rotated: 2, restored: 0, failed: 0 } });
    // Judged on the host: the same ids, names and bindings; the fresh keys; working and schedulable.
    expect(
      liveOnHost(w.sim)
        .accounts.map((a) => ({ id: a.id, name: a.name, groups: [...a.groupIds] }))
        .sort((a, b) => a.id - b.id),
    ).toEqual(before);
    const rotated = ids.map((id) => w.sim.sim.state.accounts.get(id as number));
    expect(rotated.map((a) => a?.credentials.api_key).sort()).toEqual([...fresh].sort());
    for (const a of rotated) expect(a).toMatchObject({ status: "active", schedulable: true });

    const list = await relay(["--json", "batch", "list"]);
    expect(JSON.parse(list.stdout).items[0]).toMatchObject({ batch_id: result.batch_id, kind: "rotation" });
    const human = await relay(["batch", "show", result.batch_id]);
    outputs.push(list.stdout, human.stdout, human.stderr);
    const again = await relay([...base, "--accounts", "revoked", "--dry-run"]);
    expect(again.code).toBe(4);
    expect(again.stdout).toMatch(/no account to rotate/);
    const bad = await relay([...base, "--accounts", "some", "--dry-run"]);
    expect(bad.stderr).toMatch(/--accounts takes revoked, balance_empty or account ids/);

    const text = outputs.join("\n");
    const files = [w.t.dbPath, `${w.t.dbPath}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString("latin1"));
    for (const k of [...fresh, ...keys]) {
      expect(text).not.toContain(k);
      for (const f of files) expect(f).not.toContain(k);
    }
  });
});
