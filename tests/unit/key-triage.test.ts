import { describe, expect, it } from "vitest";
import {
  answerFromPreview,
  answerFromTest,
  classifyAnswer,
  DEFAULT_TRIAGE,
  triageReason,
} from "../../src/domain/key-triage.js";
import { CHECKSUMS_FILE, renderChecksums } from "../../src/domain/pack/checksums.js";
import type { KeyTriageRule } from "../../src/domain/pack/schema.js";
import { validatePack } from "../../src/domain/pack/validate.js";

const ZHIPU: KeyTriageRule[] = [
  { status: 401, class: "revoked" },
  { status: 429, body_code: "1113", class: "balance_empty" },
  { status: 429, class: "rate_limited" },
];
const test = (status: number, body: unknown) =>
  answerFromTest(`Chat Completions API (/v1/chat/completions) returned ${status}: ${JSON.stringify(body)}`);

describe("classifyAnswer: the provider's status and code against the pack's rules", () => {
  it("tells Zhipu's arrears from its rate limit by the body code", () => {
    expect(classifyAnswer(ZHIPU, test(429, { error: { code: "1113", message: "欠费" } })).class).toBe(
      "balance_empty",
    );
    expect(classifyAnswer(ZHIPU, test(429, { error: { code: "1302", message: "并发" } })).class).toBe(
      "rate_limited",
    );
  });

  it("does not guess when the host relayed the status only and a rule needs the code", () => {
    const preview = answerFromPreview(502, "Upstream model list request failed with HTTP 429");
    expect(preview).toMatchObject({ status: 429, bodySeen: false });
    expect(classifyAnswer(ZHIPU, preview as never)).toEqual({ class: "unknown", ambiguous: true });
    // Where no rule needs the code, the status decides.
    expect(classifyAnswer(DEFAULT_TRIAGE, preview as never)).toEqual({
      class: "rate_limited",
      ambiguous: false,
    });
  });

  it("matches codes case-insensitively, in error.type and base_resp too", () => {
    const rules: KeyTriageRule[] = [
      { status: 400, body_code: "arrearage", class: "balance_empty" },
      { status: 200, body_code: "1008", class: "balance_empty" },
    ];
    expect(classifyAnswer(rules, test(400, { error: { type: "Arrearage", message: "x" } })).class).toBe(
      "balance_empty",
    );
    expect(classifyAnswer(rules, test(200, { base_resp: { status_code: 1008 } })).class).toBe(
      "balance_empty",
    );
    expect(classifyAnswer(rules, test(400, { error: { code: "other" } })).class).toBe("unknown");
  });

  it("says what the provider said, bounded and printable, never the raw body", () => {
    const answer = test(402, { error: { message: `Insufficient Balance\u001b[31m${"x".repeat(400)}` } });
    const reason = triageReason("DeepSeek", answer, classifyAnswer(DEFAULT_TRIAGE, answer));
    expect(reason).toMatch(/^rejected by DeepSeek: HTTP 402 Insufficient Balance/);
    expect(reason).not.toContain("\u001b");
    expect(reason).not.toContain("{");
    expect(reason.length).toBeLessThan(260);
    const stream = answerFromTest(
      "Invalid Chat Completions response from /v1/chat/completions: expected SSE JSON data",
    );
    expect(stream.status).toBeUndefined();
    expect(classifyAnswer(DEFAULT_TRIAGE, stream).class).toBe("unknown");
  });
});

describe("key_triage is validated with the pack", () => {
  const manifest = {
    schema_version: 1,
    pack_id: "triage-pack",
    name: "Triage",
    version: "1.0.0",
    description: "",
    host: { app: "sub2api", version_range: ">=0.1.0" },
  };
  const provider = (key_triage: unknown) => ({
    provider_id: "acme",
    display_name: "Acme",
    base_url: "https://api.example.com/v1",
    platforms: { preferred: "openai", fallback: "openai" },
    api_protocol: "chat_completions",
    default_models: ["m"],
    smoke_test_model: "m",
    account_defaults: { concurrency: 1, priority: 50 },
    group_defaults: { subscription_type: "standard", rate_multiplier: 1, is_exclusive: false },
    key_triage,
  });
  const check = async (rules: unknown) => {
    const files = new Map<string, Buffer>([
      ["pack.json", Buffer.from(JSON.stringify(manifest))],
      ["README.md", Buffer.from("# t\n")],
      ["providers/acme.json", Buffer.from(JSON.stringify(provider(rules)))],
    ]);
    files.set(CHECKSUMS_FILE, Buffer.from(renderChecksums(files)));
    const r = await validatePack({ files, duplicates: [], source: "test" });
    return r.issues.filter((i) => i.severity === "error").map((i) => `${i.code} ${i.pointer}`);
  };

  it("accepts rules in order, code before the status-only rule", async () => {
    expect(await check(ZHIPU)).toEqual([]);
  });

  it("refuses a code rule hidden behind a status-only rule, a repeated rule, and an unknown class", async () => {
    expect(await check([ZHIPU[2], ZHIPU[1]])).toEqual(["TRIAGE_RULE_SHADOWED /key_triage/1"]);
    expect(await check([ZHIPU[0], ZHIPU[0]])).toEqual(["TRIAGE_RULE_DUPLICATE /key_triage/1"]);
    expect((await check([{ status: 401, class: "ready" }]))[0]).toMatch(/^SCHEMA_INVALID/);
  });
});
