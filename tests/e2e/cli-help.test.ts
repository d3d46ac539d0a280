import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { cliReference } from "../../scripts/cli-reference.js";
import { buildProgram } from "../../src/cli/main.js";
import { projectRoot } from "../../src/util/paths.js";
import { runRelay } from "../helpers/cli.js";

function leaves(cmd: Command, prefix: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== "help");
  if (subs.length === 0) return [prefix];
  return subs.flatMap((c) => leaves(c, [...prefix, c.name()]));
}

describe("the distributed CLI", () => {
  it("docs/cli.md matches the commands' help", () => {
    expect(readFileSync(join(projectRoot(), "docs", "cli.md"), "utf8")).toBe(cliReference());
  });

  it("every command's --help works as a process and shows an example", async () => {
    const commands = leaves(buildProgram());
    expect(commands.length).toBeGreaterThan(20);
    const results = await Promise.all(commands.map((c) => runRelay([...c, "--help"])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]?.join(" ")).toBe(0);
      expect(r.stdout, commands[i]?.join(" ")).toMatch(/Examples?:\n[\s\S]*relay /);
    });
  });

  it("prints its version, and refuses unknown commands and options with usage help", async () => {
    const v = await runRelay(["--version"]);
    expect(v.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(projectRoot(), "package.json"), "utf8")).version,
    );
    const bad = await runRelay(["host", "frobnicate"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'|too many arguments/);
    const opt = await runRelay(["host", "list", "--colour"]);
    expect(opt.code).toBe(1);
    expect(opt.stderr).toMatch(/unknown option '--colour'/);
  });
});
