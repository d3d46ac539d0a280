import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import { runRelay } from "../helpers/cli.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";

const SHIPPED = join(projectRoot(), "packs", "openai-cn-pack");
const FIXTURES = join(projectRoot(), "tests", "fixtures", "packs");
let t: TestEnv;
beforeAll(() => {
  t = makeTestEnv();
});
afterAll(() => t.cleanup());

describe("relay pack", () => {
  it("lint --strict passes the shipped pack", async () => {
    const r = await runRelay(["pack", "lint", SHIPPED, "--strict"], { env: t.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK: 0 error\(s\), 0 warning\(s\) \(strict\)/);
  });

  it("lint fails on a bad pack, listing the problem with file and pointer", async () => {
    const r = await runRelay(["--json", "pack", "lint", join(FIXTURES, "smoke-model-not-in-defaults")], {
      env: t.env,
    });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.issues).toContainEqual(
      expect.objectContaining({
        code: "SMOKE_MODEL_NOT_IN_DEFAULTS",
        file: "providers/fixture-llm.json",
        pointer: "/smoke_test_model",
      }),
    );
  });

  it("lint --strict fails on warnings that plain lint accepts", async () => {
    const plain = await runRelay(["pack", "lint", join(FIXTURES, "warnings-only")], { env: t.env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/OK: 0 error\(s\), 3 warning\(s\)/);
    const strict = await runRelay(["pack", "lint", join(FIXTURES, "warnings-only"), "--strict"], {
      env: t.env,
    });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/README_MISSING/);
    expect(strict.stdout).toMatch(/PRICING_MISSING/);
    expect(strict.stdout).toMatch(/KEY_PATTERN_MISSING/);
    expect(strict.stdout).toMatch(/FAIL: 0 error\(s\), 3 warning\(s\) \(strict\)/);
  });

  it("install, list, show, and a second install is a no-op", async () => {
    const first = await runRelay(["pack", "install", SHIPPED], { env: t.env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^installed: openai-cn-pack 1\.1\.0/);
    const again = await runRelay(["--json", "pack", "install", SHIPPED], { env: t.env });
    expect(JSON.parse(again.stdout).outcome).toBe("unchanged");
    const list = await runRelay(["pack", "list"], { env: t.env });
    expect(list.stdout).toMatch(/openai-cn-pack\s+1\.1\.0\s+deepseek,kimi,minimax,qwen,zhipu/);
    const show = await runRelay(["pack", "show", "openai-cn-pack"], { env: t.env });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /deepseek\s+DeepSeek\s+https:\/\/api\.deepseek\.com\s+\S+\s+deepseek\/openai\s+deepseek-v4-flash/,
    );
  });

  it("install of a hostile or bad pack exits 1 with the reason", async () => {
    const r = await runRelay(["pack", "install", join(FIXTURES, "unexpected-file")], { env: t.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pack rejected with 1 problem\(s\); first: scripts\/install\.sh/);
    expect(r.stderr).toMatch(/relay pack lint/);
  });
});
