import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import { writeSignedPack } from "../fixtures/packs/write.js";
import { runRelay } from "../helpers/cli.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";

const SHIPPED = join(projectRoot(), "packs", "openai-cn-pack");
const FIXTURES = join(projectRoot(), "tests", "fixtures", "packs");
let t: TestEnv;
beforeAll(async () => {
  t = await makeTestEnv();
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

  it("lint --as-of judges retirement dates on that day; a day that does not exist is refused", async () => {
    const dir = join(t.dir, "old-smoke");
    const files = new Map<string, string>();
    for (const name of [
      "pack.json",
      "README.md",
      ...readdirSync(join(SHIPPED, "providers")).map((f) => `providers/${f}`),
    ])
      files.set(name, readFileSync(join(SHIPPED, name), "utf8"));
    const kimi = JSON.parse(files.get("providers/kimi.json") as string);
    kimi.default_models.push("kimi-k2-turbo-preview");
    kimi.smoke_test_model = "kimi-k2-turbo-preview";
    files.set("providers/kimi.json", JSON.stringify(kimi));
    writeSignedPack(dir, new Map([...files].map(([k, v]) => [k, Buffer.from(v)])));
    const before = await runRelay(["pack", "lint", dir, "--strict", "--as-of", "2026-05-24"], { env: t.env });
    expect(before.code).toBe(0);
    const after = await runRelay(["--json", "pack", "lint", dir, "--strict", "--as-of", "2026-05-25"], {
      env: t.env,
    });
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout).issues).toEqual([
      expect.objectContaining({
        code: "MODEL_RETIRED",
        file: "providers/kimi.json",
        pointer: "/smoke_test_model",
      }),
    ]);
    const bad = await runRelay(["pack", "lint", dir, "--as-of", "2026-02-30"], { env: t.env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--as-of "2026-02-30" is not a day/);
  });

  it("install, list, show, and a second install is a no-op", async () => {
    const first = await runRelay(["pack", "install", SHIPPED], { env: t.env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^installed: openai-cn-pack 1\.2\.0/);
    const again = await runRelay(["--json", "pack", "install", SHIPPED], { env: t.env });
    expect(JSON.parse(again.stdout).outcome).toBe("unchanged");
    const list = await runRelay(["pack", "list"], { env: t.env });
    expect(list.stdout).toMatch(
      /openai-cn-pack\s+1\.2\.0\s+deepseek,kimi,kimi-intl,minimax,minimax-intl,qwen,qwen-intl,qwen-us,zhipu,zhipu-intl/,
    );
    const show = await runRelay(["pack", "show", "openai-cn-pack"], { env: t.env });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /deepseek\s+DeepSeek\s+https:\/\/api\.deepseek\.com\s+global\s+deepseek\/openai\s+deepseek-flash/,
    );
  });

  it("install of a hostile or bad pack exits 1 with the reason", async () => {
    const r = await runRelay(["pack", "install", join(FIXTURES, "unexpected-file")], { env: t.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pack rejected with 1 problem\(s\); first: scripts\/install\.sh/);
    expect(r.stderr).toMatch(/relay pack lint/);
  });
});
