import { type HostFacts, providerSupport } from "./compat.js";
import type { ProviderDefinition } from "./pack/schema.js";

/** How a provider is expressed on a given host (design §3 host profiles). */
export interface HostMapping {
  platform: string;
  /** True when the host lacks the provider's own platform and the OpenAI fallback is used. */
  viaFallback: boolean;
  baseUrl: string;
  accountMode: "payg" | "coding" | undefined;
  apiProtocol: "chat_completions" | undefined;
  modelMapping: Record<string, string>;
  extra: Record<string, unknown>;
  /** Channel pricing in the host's unit (USD per token), keyed to the group platform. */
  pricing: { platform: string; models: string[]; inputPrice: number; outputPrice: number }[];
}

const PER_MILLION = 1_000_000;

/**
 * The platform and credentials a provider gets on a host: its own platform where the build can
 * test and serve it (domain/compat.ts), the OpenAI fallback otherwise. On a build that supports
 * neither, the shape relay would have used is still returned, so existing resources can be read.
 */
export function mapProvider(def: ProviderDefinition, host: HostFacts): HostMapping {
  const preferred = def.platforms.preferred;
  const support = providerSupport(def, host);
  const native =
    support.status === "supported"
      ? support.mode === "native"
      : preferred === "openai" || host.caps.cn_platforms.includes(preferred);
  const platform = native ? preferred : def.platforms.fallback;
  const isOpenAi = platform === "openai";
  // Every default model maps to itself, so the account serves exactly these; aliases are added.
  const modelMapping: Record<string, string> = Object.fromEntries(def.default_models.map((m) => [m, m]));
  Object.assign(modelMapping, def.model_mapping ?? {});
  return {
    platform,
    viaFallback: !native,
    baseUrl: def.base_url,
    // `account_mode`/`api_protocol` are CN-platform credentials; openai accounts take base_url only.
    accountMode: isOpenAi ? undefined : (def.account_mode ?? "payg"),
    apiProtocol: isOpenAi ? undefined : "chat_completions",
    modelMapping,
    extra: isOpenAi ? { openai_responses_mode: "force_chat_completions" } : {},
    pricing: (def.pricing ?? []).map((p) => ({
      platform,
      models: p.models,
      inputPrice: p.input_per_million / PER_MILLION,
      outputPrice: p.output_per_million / PER_MILLION,
    })),
  };
}
