import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("relay provider preview --precheck and import: keys by class, with what to do", () => {
  it("shows each key's class in the preview and the plan file, and groups the import's keys by class", async () => {
    w = await makeWorld();
    const [good, revoked, empty] = [deepseekKey(), deepseekKey(), deepseekKey()];
    w.sim.sim.upstream.revoke(revoked);
    w.sim.sim.upstream.emptyBalance.add(empty);
    const file = join(w.t.dir, "keys.txt");
    writeFileSync(file, `# team keys\n${good}\n${revoked}\n${empty}\n`);
    const planFile = join(w.t.dir, "plan.json");
    const common = ["--host", "sim", "--keys-file", file, "--mode", "partial"];
    const preview = await runRelay(
      ["provider", "preview", "deepseek", ...common, "--precheck", "--out", planFile],
      { env: w.t.env },
    );
    expect(preview.code).toBe(0);
    // Lines of the key file (the comment is line 1); the revoked key is known before the import.
    expect(preview.stdout).toMatch(/\b3\s+sk-…\S+\s+revoked\s+rejected by DeepSeek: HTTP 401/);
    const plan = readFileSync(planFile, "utf8");
    expect(JSON.parse(plan).plan.key_triage.map((k: { class: string }) => k.class)).toEqual([
      "ready",
      "revoked",
      "ready",
    ]);

    const imp = await runRelay(
      ["provider", "import", "deepseek", "--plan", planFile, "--keys-file", file, "--yes"],
      {
        env: w.t.env,
      },
    );
    expect(imp.code).toBe(3);
    expect(imp.stdout).toMatch(/keys by class: 1 ready, 1 revoked, 1 balance_empty/);
    expect(imp.stdout).toMatch(/revoked\s+1 key\(s\), line\(s\) 3: replace the key/);
    expect(imp.stdout).toMatch(/balance_empty\s+1 key\(s\), line\(s\) 4: fund the provider account/);
    expect(imp.stdout).not.toMatch(/\{"error"/);
    for (const out of [preview.stdout, preview.stderr, imp.stdout, imp.stderr, plan])
      for (const k of [good, revoked, empty]) expect(out).not.toContain(k);
    expect(liveOnHost(w.sim).accounts.map((a) => a.credentials.api_key)).toEqual([good]);
  });
});
