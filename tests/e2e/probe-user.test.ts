import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("relay's probe user is announced and listed (issue #25 item 6)", () => {
  it("the import that creates it says so once; host show and the API list it; the host has it", async () => {
    w = await makeWorld();
    const importOnce = async () => {
      const file = join(w.t.dir, `k-${Math.random().toString(36).slice(2)}.keys`);
      writeFileSync(file, `${deepseekKey()}\n`);
      return runRelay(
        [
          "provider",
          "import",
          "deepseek",
          "--host",
          "sim",
          "--keys-file",
          file,
          "--mode",
          "partial",
          "--access-mode",
          "subscription",
          "--yes",
        ],
        { env: w.t.env },
      );
    };
    const before = JSON.parse((await runRelay(["--json", "host", "show", "sim"], { env: w.t.env })).stdout);
    expect(before.probe_user).toBeNull();

    const first = await importOnce();
    expect(first.code, first.stderr).toBe(0);
    const said = first.stdout.split("\n").filter((l) => /probe user/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^! relay created its probe user relay-probe-[0-9a-f]+@relay\.invalid on host sim /,
    );

    const shown = JSON.parse((await runRelay(["--json", "host", "show", "sim"], { env: w.t.env })).stdout);
    expect(shown.probe_user).toMatchObject({ created_by_relay: true });
    // Judged from the host: the user relay lists is there, with the address relay gave it.
    const onHost = [...w.sim.sim.state.users.values()].find((u) => u.id === shown.probe_user.user_id);
    expect(onHost?.email).toBe(shown.probe_user.email);
    const human = await runRelay(["host", "show", "sim"], { env: w.t.env });
    expect(human.stdout).toMatch(
      new RegExp(
        `^probe user:\\s+${shown.probe_user.email.replace(/\./g, "\\.")} \\(#${onHost?.id}, created by relay to prove access\\)$`,
        "m",
      ),
    );

    const second = await importOnce();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toMatch(/probe user/);
  }, 120_000);
});
