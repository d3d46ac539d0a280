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
      const name = commands[i]?.join(" ");
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/Examples?:\n[\s\S]*relay /);
      // "exit codes were listed on 3 commands only; --json/--db were not shown on subcommands"
      expect(r.stdout, name).toMatch(/Exit codes: 0 /);
      expect(r.stdout, name).toMatch(/Global Options:\n {2}--db <path>[\s\S]*\n {2}--json /);
      // "several commands lack an Arguments: section": every argument is described.
      if (/^Usage: .*<\w+>/m.test(r.stdout)) expect(r.stdout, name).toMatch(/Arguments:\n/);
    });
  });

  it("'group help has no examples; required options are not marked'", async () => {
    for (const group of ["host", "pack", "provider", "batch", "access", "reconcile"]) {
      const r = await runRelay([group, "--help"]);
      expect(r.stdout, group).toMatch(/Examples:\n {2}relay /);
    }
    const add = await runRelay(["host", "add", "--help"]);
    expect(add.stdout).toMatch(/--name <name>\s+.*\(required\)/);
    expect(add.stdout).toMatch(/--base-url <url>\s+.*\(required\)/);
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
