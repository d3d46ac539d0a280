import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";

describe("the one-command demo", () => {
  it("scripts/e2e/verify_with_host_stub.sh completes every step and exits 0", async () => {
    const child = spawn("bash", [join(projectRoot(), "scripts", "e2e", "verify_with_host_stub.sh")], {
      env: { PATH: process.env.PATH ?? "" },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(out, out).toMatch(/Demo complete: every step did what it says\./);
    expect(out).not.toMatch(/✘/);
    expect((out.match(/✔/g) ?? []).length).toBeGreaterThanOrEqual(20);
    expect(code).toBe(0);
  }, 60_000);
});
