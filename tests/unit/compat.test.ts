import { describe, expect, it } from "vitest";
import { joinedChatUrl, providerSupport } from "../../src/domain/compat.js";
import type { ProviderDefinition } from "../../src/domain/pack/schema.js";
import { parseHostVersion } from "../../src/domain/pack/version-range.js";

const def = (id: string, baseUrl: string, preferred = id) =>
  ({
    provider_id: id,
    display_name: id,
    base_url: baseUrl,
    platforms: { preferred, fallback: "openai" },
  }) as unknown as ProviderDefinition;
const deepseek = def("deepseek", "https://api.deepseek.com");
const zhipu = def("zhipu", "https://open.bigmodel.cn/api/paas/v4");
const minimax = def("minimax", "https://api.minimax.io/v1");
const host = (version: string | null, cn: string[] = [], chat = true) => ({
  version,
  caps: { cn_platforms: cn, chat_completions: chat },
});

describe("URL joining per build", () => {
  it.each([
    ["https://api.deepseek.com", "0.1.150", "https://api.deepseek.com/v1/chat/completions"],
    ["https://api.moonshot.cn/v1/", "0.1.150", "https://api.moonshot.cn/v1/chat/completions"],
    [
      "https://open.bigmodel.cn/api/paas/v4",
      "0.1.126",
      "https://open.bigmodel.cn/api/paas/v4/v1/chat/completions",
    ],
    // Version-directory joining from 0.1.127 (8927ab091), not 0.1.179.
    [
      "https://open.bigmodel.cn/api/paas/v4",
      "0.1.127",
      "https://open.bigmodel.cn/api/paas/v4/chat/completions",
    ],
    ["https://x.example/api/v1.1", "0.1.150", "https://x.example/api/v1.1/chat/completions"],
    ["https://x.example/v2preview", "0.1.150", "https://x.example/v2preview/chat/completions"],
    ["https://x.example/v1beta1", "0.1.178", "https://x.example/v1beta1/chat/completions"],
    ["https://x.example/v1-preview", "0.1.178", "https://x.example/v1-preview/v1/chat/completions"],
    ["https://x.example/v1.x", "0.1.178", "https://x.example/v1.x/v1/chat/completions"],
    ["https://x.example/chat/completions", "0.1.179", "https://x.example/chat/completions"],
    [
      "https://open.bigmodel.cn/api/paas/v4",
      "0.1.179",
      "https://open.bigmodel.cn/api/paas/v4/chat/completions",
    ],
    ["https://x.example/v1beta", "0.1.200", "https://x.example/v1beta/chat/completions"],
    ["https://x.example/v1/chat/completions", "0.1.150", "https://x.example/v1/chat/completions"],
  ])("%s on %s → %s", (base, version, joined) => {
    expect(joinedChatUrl(base, parseHostVersion(version))).toBe(joined);
  });
});

describe("provider support by version and observation", () => {
  it("0.1.179 serves CN platforms it accepts natively and the rest through the fallback", () => {
    expect(providerSupport(deepseek, host("0.1.179", ["deepseek", "kimi", "zhipu"]))).toEqual({
      status: "supported",
      mode: "native",
      platform: "deepseek",
    });
    expect(providerSupport(zhipu, host("0.1.179", ["zhipu"]))).toMatchObject({ mode: "native" });
    expect(providerSupport(minimax, host("0.1.179", ["deepseek"]))).toMatchObject({
      mode: "fallback",
      platform: "openai",
    });
    // A later build that accepts minimax as a platform still gets the verified fallback (B4).
    expect(providerSupport(minimax, host("0.2.4", ["minimax"]))).toMatchObject({
      mode: "fallback",
      platform: "openai",
    });
  });

  it("0.1.178 serves the CN providers it accepts through the OpenAI fallback (its CN test is broken)", () => {
    for (const d of [deepseek, zhipu]) {
      expect(providerSupport(d, host("0.1.178", ["deepseek", "kimi", "zhipu"]))).toEqual({
        status: "supported",
        mode: "fallback",
        platform: "openai",
      });
    }
  });

  it("Zhipu's /v4 base is served through the fallback from 0.1.130 (joined since 0.1.127)", () => {
    expect(providerSupport(zhipu, host("0.1.150"))).toMatchObject({ status: "supported", mode: "fallback" });
    expect(providerSupport(zhipu, host("0.1.127"))).toMatchObject({ code: "FALLBACK_UNAVAILABLE" });
  });

  it("four-part fork versions compare numerically: 0.1.105.36 predates the working fallback", () => {
    expect(providerSupport(deepseek, host("0.1.105.36"))).toMatchObject({
      status: "unsupported",
      code: "FALLBACK_UNAVAILABLE",
      firstWorking: "0.1.130",
    });
    expect(providerSupport(deepseek, host("0.1.130"))).toMatchObject({
      status: "supported",
      mode: "fallback",
    });
  });

  it("an unknown version is judged by observation, with the conservative URL join", () => {
    expect(providerSupport(deepseek, host(null, ["deepseek"]))).toMatchObject({
      status: "supported",
      mode: "native",
    });
    expect(providerSupport(zhipu, host(null, ["zhipu"]))).toMatchObject({
      status: "unsupported",
      code: "BASE_URL_JOIN",
    });
    expect(providerSupport(deepseek, host(null, [], false))).toMatchObject({ code: "NO_CHAT_COMPLETIONS" });
  });
});
