import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ZipFile } from "yazl";
import { isAppError } from "../../src/domain/errors.js";
import type { PackIssue } from "../../src/domain/pack/validate.js";
import { getPack, installPack, lintPack, listPackProviders, listPacks } from "../../src/packs/packs.js";
import { projectRoot } from "../../src/util/paths.js";
import { hostileArchives } from "../fixtures/packs/hostile.js";
import { writeSignedPack } from "../fixtures/packs/write.js";
import { makeTestEnv, rowCount, rows, type TestEnv } from "../helpers/context.js";

const FIXTURES = join(projectRoot(), "tests", "fixtures", "packs");
const SHIPPED = join(projectRoot(), "packs", "openai-cn-pack");
const expected: Record<string, string> = JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8"));

let t: TestEnv;
beforeEach(async () => {
  t = await makeTestEnv();
});
afterEach(() => t.cleanup());

const counts = async () => ({
  packs: await rowCount(t.ctx, "packs"),
  providers: await rowCount(t.ctx, "providers"),
});

async function refusal(p: Promise<unknown>): Promise<{ code: string; issues: PackIssue[] }> {
  try {
    await p;
  } catch (err) {
    if (!isAppError(err)) throw err;
    const issues = ((err.details as { issues?: PackIssue[] } | undefined)?.issues ?? []) as PackIssue[];
    return { code: err.code, issues };
  }
  throw new Error("expected the pack to be refused");
}

function zipDir(dir: string, prefix = ""): Promise<Buffer> {
  const zip = new ZipFile();
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      if (name.isDirectory()) walk(join(d, name.name), `${rel}${name.name}/`);
      else zip.addFile(join(d, name.name), `${prefix}${rel}${name.name}`);
    }
  };
  walk(dir, "");
  zip.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

function copyPack(from: string, to: string, edit: (files: Map<string, string>) => void) {
  const files = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else files.set(`${rel}${e.name}`, readFileSync(join(d, e.name), "utf8"));
    }
  };
  walk(from, "");
  edit(files);
  writeSignedPack(to, files);
}

describe("the shipped openai-cn-pack", () => {
  it("passes strict lint: no errors and no warnings", async () => {
    t.ctx.clock = () => new Date("2026-12-02T00:00:00Z");
    const report = await lintPack(t.ctx, { kind: "path", path: SHIPPED });
    expect(report.issues).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.providers.map((p) => p.provider_id).sort()).toEqual([
      "deepseek",
      "kimi",
      "kimi-intl",
      "minimax",
      "minimax-intl",
      "qwen",
      "qwen-intl",
      "qwen-us",
      "zhipu",
      "zhipu-intl",
    ]);
    for (const p of report.providers) {
      expect(p.base_url.startsWith("https://")).toBe(true);
      expect(p.default_models).toContain(p.smoke_test_model);
      expect(p.platforms.fallback).toBe("openai");
    }
  });

  it("records its retirements; lint judges them by the context's clock and warns for a retired smoke model", async () => {
    const qwen = (await lintPack(t.ctx, { kind: "path", path: SHIPPED })).providers.find(
      (p) => p.provider_id === "qwen",
    );
    expect(qwen?.model_lifecycle?.["qwen-turbo"]).toMatchObject({
      retired_at: "2026-10-10",
      replacement: "qwen-flash",
    });
    expect(qwen?.default_models).not.toContain("qwen-turbo");
    const old = join(t.dir, "old-smoke");
    copyPack(SHIPPED, old, (f) => {
      const p = JSON.parse(f.get("providers/qwen.json") as string);
      f.set(
        "providers/qwen.json",
        JSON.stringify({
          ...p,
          default_models: [...p.default_models, "qwen-turbo"],
          smoke_test_model: "qwen-turbo",
        }),
      );
    });
    t.ctx.clock = () => new Date("2026-10-09T23:59:59Z");
    expect((await lintPack(t.ctx, { kind: "path", path: old })).issues).toEqual([]);
    t.ctx.clock = () => new Date("2026-10-10T00:00:00Z");
    const report = await lintPack(t.ctx, { kind: "path", path: old });
    expect(report.ok).toBe(true);
    expect(report.issues).toEqual([
      expect.objectContaining({
        severity: "warning",
        code: "MODEL_RETIRED",
        file: "providers/qwen.json",
        pointer: "/smoke_test_model",
        message: expect.stringMatching(/qwen-turbo.*retired since 2026-10-10.*use qwen-flash/),
      }),
    ]);
    // Install reports the same warning and installs (it is not an error).
    const installed = await installPack(t.ctx, { kind: "path", path: old });
    expect(installed.warnings.map((w) => w.code)).toEqual(["MODEL_RETIRED"]);
  });

  it("installs from its directory; listing shows its providers; reinstalling is a no-op", async () => {
    const first = await installPack(t.ctx, { kind: "path", path: SHIPPED });
    expect(first.outcome).toBe("installed");
    expect((await listPacks(t.ctx)).map((p) => p.pack_id)).toEqual(["openai-cn-pack"]);
    expect((await listPackProviders(t.ctx, "openai-cn-pack")).map((p) => p.provider_id)).toEqual([
      "deepseek",
      "kimi",
      "kimi-intl",
      "minimax",
      "minimax-intl",
      "qwen",
      "qwen-intl",
      "qwen-us",
      "zhipu",
      "zhipu-intl",
    ]);
    const before = await counts();
    const again = await installPack(t.ctx, { kind: "path", path: SHIPPED });
    expect(again.outcome).toBe("unchanged");
    expect(await counts()).toEqual(before);
  });

  it("records that each key_pattern passed the ReDoS check, so imports need not load the checker", async () => {
    await installPack(t.ctx, { kind: "path", path: SHIPPED });
    const flags = await rows<{ c: number }>(t.ctx, sql`SELECT key_pattern_checked AS c FROM providers`);
    expect(flags).toHaveLength(10);
    expect(flags.every((f) => f.c === 1)).toBe(true);
    // A row stored before the check (0) is checked again at import: tests/reliability/hostile-round2.ts.
  });

  it("installs from a zip made of it, also when nested under one folder", async () => {
    const flat = await installPack(t.ctx, { kind: "zip", data: await zipDir(SHIPPED), label: "upload" });
    expect(flat.outcome).toBe("installed");
    const nested = await installPack(t.ctx, {
      kind: "zip",
      data: await zipDir(SHIPPED, "openai-cn-pack/"),
      label: "upload",
    });
    expect(nested.outcome).toBe("unchanged");
  });

  it("upgrades to a bumped version, keeps history, refuses a downgrade unless forced", async () => {
    await installPack(t.ctx, { kind: "path", path: SHIPPED });
    const v2 = join(t.dir, "v2");
    copyPack(SHIPPED, v2, (f) => {
      const m = JSON.parse(f.get("pack.json") as string);
      f.set("pack.json", JSON.stringify({ ...m, version: "1.3.0" }));
    });
    const up = await installPack(t.ctx, { kind: "path", path: v2 });
    expect(up).toMatchObject({ outcome: "upgraded", previous_version: "1.2.0" });
    expect((await getPack(t.ctx, "openai-cn-pack")).history.map((h) => [h.version, h.current])).toEqual([
      ["1.3.0", true],
      ["1.2.0", false],
    ]);
    const before = await counts();
    const down = await refusal(installPack(t.ctx, { kind: "path", path: SHIPPED }));
    expect(down.code).toBe("PACK_DOWNGRADE");
    expect(await counts()).toEqual(before);
    const forced = await installPack(t.ctx, { kind: "path", path: SHIPPED }, { force: true });
    expect(forced.outcome).toBe("downgraded");
    expect((await getPack(t.ctx, "openai-cn-pack")).version).toBe("1.2.0");
  });

  it("refuses the same version with different content", async () => {
    await installPack(t.ctx, { kind: "path", path: SHIPPED });
    const edited = join(t.dir, "edited");
    copyPack(SHIPPED, edited, (f) => f.set("README.md", "# changed without a version bump\n"));
    expect((await refusal(installPack(t.ctx, { kind: "path", path: edited }))).code).toBe(
      "PACK_VERSION_CHANGED",
    );
  });
});

describe("the bad-pack corpus: each refused with its code, nothing written", () => {
  it.each(Object.entries(expected))("%s → %s", async (name, code) => {
    if (name === "provider-from-other-pack") await installPack(t.ctx, { kind: "path", path: SHIPPED });
    const before = await counts();
    const r = await refusal(installPack(t.ctx, { kind: "path", path: join(FIXTURES, name) }));
    expect(r.code).toBe("PACK_INVALID");
    expect(r.issues.map((i) => i.code)).toContain(code);
    const issue = r.issues.find((i) => i.code === code);
    expect(issue?.severity).toBe("error");
    expect(issue?.message.length).toBeGreaterThan(10);
    expect(await counts()).toEqual(before);
  });

  it("reports every problem of a pack in one pass, with files and pointers", async () => {
    const dir = join(t.dir, "many");
    copyPack(join(FIXTURES, "valid-pack"), dir, (f) => {
      const p = JSON.parse(f.get("providers/fixture-llm.json") as string);
      f.set(
        "providers/fixture-llm.json",
        JSON.stringify({ ...p, base_url: "http://x.example", smoke_test_model: "nope", colour: "red" }),
      );
      const m = JSON.parse(f.get("pack.json") as string);
      f.set("pack.json", JSON.stringify({ ...m, version: "one" }));
    });
    const report = await lintPack(t.ctx, { kind: "path", path: dir });
    expect(report.ok).toBe(false);
    const byCode = Object.fromEntries(report.issues.map((i) => [i.code, i]));
    expect(Object.keys(byCode)).toEqual(
      expect.arrayContaining([
        "BASE_URL_NOT_HTTPS",
        "SMOKE_MODEL_NOT_IN_DEFAULTS",
        "SCHEMA_INVALID",
        "VERSION_INVALID",
      ]),
    );
    expect(byCode.BASE_URL_NOT_HTTPS).toMatchObject({
      file: "providers/fixture-llm.json",
      pointer: "/base_url",
    });
    expect(byCode.VERSION_INVALID).toMatchObject({ file: "pack.json", pointer: "/version" });
    expect(report.issues.find((i) => i.code === "SCHEMA_INVALID")?.message).toMatch(/unknown field "colour"/);
  });
});

describe("hostile archives and files: refused before anything is read or written", () => {
  it.each(hostileArchives().map((h) => [h.name, h] as const))("%s", async (_name, h) => {
    const before = await counts();
    const r = await refusal(installPack(t.ctx, { kind: "zip", data: h.zip, label: "upload" }));
    const codes = [r.code, ...r.issues.map((i) => i.code)];
    expect(codes).toContain(h.code);
    expect(await counts()).toEqual(before);
  });

  it("a 50 MB pack.json in a directory", async () => {
    const dir = join(t.dir, "huge");
    mkdirSync(dir);
    writeFileSync(join(dir, "pack.json"), Buffer.alloc(50 * 1024 * 1024, 0x20));
    const r = await refusal(installPack(t.ctx, { kind: "path", path: dir }));
    expect(r.code).toBe("ENTRY_TOO_LARGE");
    expect(await counts()).toEqual({ packs: 0, providers: 0 });
  });

  it("a symlink inside a pack directory", async () => {
    const dir = join(t.dir, "linked");
    copyPack(join(FIXTURES, "valid-pack"), dir, () => {});
    symlinkSync("/etc/passwd", join(dir, "providers", "passwd.json"));
    expect((await refusal(installPack(t.ctx, { kind: "path", path: dir }))).code).toBe("SYMLINK_NOT_ALLOWED");
  });

  it("a path that does not exist", async () => {
    expect((await refusal(installPack(t.ctx, { kind: "path", path: join(t.dir, "nope") }))).code).toBe(
      "PACK_PATH_NOT_FOUND",
    );
  });
});
