import { describe, expect, it } from "vitest";
import { CHECKSUMS_FILE, renderChecksums } from "../../src/domain/pack/checksums.js";
import { type PackIssue, validatePack } from "../../src/domain/pack/validate.js";

/**
 * Model retirement facts (`model_lifecycle`) and region variants (`region`, `family`) in a pack:
 * what is refused, and what `relay pack lint` warns about on a given day. The day is always given.
 */
const manifest = {
  schema_version: 1,
  pack_id: "lifecycle-pack",
  name: "Lifecycle",
  version: "1.0.0",
  description: "",
  host: { app: "sub2api", version_range: ">=0.1.0" },
};

function provider(id: string, extra: Record<string, unknown> = {}) {
  return {
    provider_id: id,
    display_name: id,
    base_url: "https://api.example.com/v1",
    platforms: { preferred: "openai", fallback: "openai" },
    api_protocol: "chat_completions",
    default_models: ["m-new", "m-old"],
    smoke_test_model: "m-new",
    key_pattern: "^sk-[a-z]{8}$",
    account_defaults: { concurrency: 1, priority: 50 },
    group_defaults: { subscription_type: "standard", rate_multiplier: 1, is_exclusive: false },
    pricing: [{ models: ["m-new"], input_per_million: 1, output_per_million: 2 }],
    ...extra,
  };
}

function pack(...providers: Record<string, unknown>[]) {
  const files = new Map<string, Buffer>([
    ["pack.json", Buffer.from(JSON.stringify(manifest))],
    ["README.md", Buffer.from("# test\n")],
  ]);
  for (const p of providers) files.set(`providers/${p.provider_id}.json`, Buffer.from(JSON.stringify(p)));
  files.set(CHECKSUMS_FILE, Buffer.from(renderChecksums(files)));
  return { files, duplicates: [], source: "test" };
}

const day = (d: string) => new Date(`${d}T12:00:00Z`);
const codes = (issues: PackIssue[]) => issues.map((i) => `${i.severity} ${i.code} ${i.pointer}`);

describe("model_lifecycle is validated", () => {
  it("accepts dated facts, a replacement among the defaults and a source", async () => {
    const r = await validatePack(
      pack(
        provider("acme", {
          model_lifecycle: {
            "m-old": { deprecated_at: "2027-01-01", retired_at: "2027-03-01", replacement: "m-new" },
            "m-gone": {
              retired_at: "2026-01-01",
              replacement: "m-new",
              source: "https://example.com/notice",
            },
          },
        }),
      ),
      { now: day("2026-12-02") },
    );
    expect(r.issues).toEqual([]);
    expect(r.providers[0]?.model_lifecycle?.["m-gone"]?.replacement).toBe("m-new");
  });

  it("refuses days that do not exist, retirement before deprecation and unknown or self replacements", async () => {
    const r = await validatePack(
      pack(
        provider("acme", {
          model_lifecycle: {
            "m-a": { deprecated_at: "2026-02-30" },
            "m-b": { deprecated_at: "2026-10-10", retired_at: "2026-10-09" },
            "m-c": { retired_at: "2026-01-01", replacement: "m-missing" },
            "m-old": { replacement: "m-old" },
          },
        }),
      ),
      { now: day("2026-12-02") },
    );
    expect(r.ok).toBe(false);
    expect(codes(r.issues)).toEqual([
      "error MODEL_DATE_INVALID /model_lifecycle/m-a/deprecated_at",
      "error MODEL_DATES_OUT_OF_ORDER /model_lifecycle/m-b/retired_at",
      "error REPLACEMENT_INVALID /model_lifecycle/m-c/replacement",
      "error REPLACEMENT_INVALID /model_lifecycle/m-old/replacement",
    ]);
  });

  it("refuses an empty entry, an unknown field and a date of the wrong shape (schema)", async () => {
    const r = await validatePack(
      pack(
        provider("acme", {
          model_lifecycle: {
            "m-a": {},
            "m-b": { sunset: "2026-01-01" },
            "m-c": { retired_at: "10/10/2026" },
          },
        }),
      ),
    );
    expect(r.issues.map((i) => [i.code, i.pointer])).toEqual([
      ["SCHEMA_INVALID", "/model_lifecycle/m-a"],
      ["SCHEMA_INVALID", "/model_lifecycle/m-b"],
      ["SCHEMA_INVALID", "/model_lifecycle/m-c/retired_at"],
    ]);
  });
});

describe("lint warns when a model the accounts send upstream is past its dates", () => {
  const dated = provider("acme", {
    default_models: ["m-new", "m-old", "m-older"],
    smoke_test_model: "m-older",
    model_mapping: { "m-alias": "m-old" },
    model_lifecycle: {
      "m-old": { deprecated_at: "2026-11-01", retired_at: "2027-02-01", replacement: "m-new" },
      "m-older": { deprecated_at: "2026-06-01", retired_at: "2026-12-02" },
    },
  });

  it("before any date: nothing", async () => {
    expect((await validatePack(pack(dated), { now: day("2026-05-31") })).issues).toEqual([]);
  });

  it("deprecated: the default model and the alias target; retired on its day: the smoke model", async () => {
    const before = await validatePack(pack(dated), { now: day("2026-12-01") });
    expect(codes(before.issues)).toEqual([
      "warning MODEL_DEPRECATED /smoke_test_model",
      "warning MODEL_DEPRECATED /default_models/1",
      "warning MODEL_DEPRECATED /model_mapping/m-alias",
    ]);
    const on = await validatePack(pack(dated), { now: day("2026-12-02") });
    expect(on.ok).toBe(true);
    expect(codes(on.issues)[0]).toBe("warning MODEL_RETIRED /smoke_test_model");
    expect(on.issues[0]?.message).toBe(
      'smoke_test_model "m-older" is retired since 2026-12-02 (as of 2026-12-02)',
    );
    expect(on.issues[1]?.message).toMatch(/"m-old" is deprecated since 2026-11-01 .*; use m-new$/);
  });

  it("without a day to judge by, dates are not judged", async () => {
    expect((await validatePack(pack(dated))).issues).toEqual([]);
  });
});

describe("region variants", () => {
  it("a family with its default and distinct regions is accepted", async () => {
    const r = await validatePack(
      pack(
        provider("acme", { family: "acme", region: "cn" }),
        provider("acme-intl", { family: "acme", region: "intl" }),
        provider("acme-us", { family: "acme", region: "us" }),
      ),
    );
    expect(r.issues).toEqual([]);
    expect(r.providers.map((p) => `${p.provider_id}:${p.region}`)).toEqual([
      "acme:cn",
      "acme-intl:intl",
      "acme-us:us",
    ]);
  });

  it("a member without a region, a region twice and a family without its default are reported", async () => {
    const r = await validatePack(
      pack(
        provider("bolt-intl", { family: "bolt", region: "intl" }),
        provider("bolt-sg", { family: "bolt", region: "intl" }),
        provider("bolt-us", { family: "bolt" }),
        provider("xray", { region: "Not A Region" }),
      ),
    );
    expect(r.issues.map((i) => `${i.severity} ${i.code} ${i.file}`)).toEqual([
      "error SCHEMA_INVALID providers/xray.json",
      "error REGION_DUPLICATE providers/bolt-sg.json",
      "error REGION_MISSING providers/bolt-us.json",
      "warning FAMILY_DEFAULT_MISSING providers/bolt-intl.json",
    ]);
  });
});
