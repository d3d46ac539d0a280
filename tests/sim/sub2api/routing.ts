import type { SimProfile } from "./profiles.js";
import type { SimAccount } from "./state.js";
import { joinEndpoint } from "./upstream.js";

/**
 * Where a build sends an account's traffic, for its account test and for gateway calls
 * (docs/host-compatibility.md, "Test and serve paths"):
 * - OpenAI platform: the Responses API, unless the build knows `openai_responses_mode` (0.1.127+)
 *   and the account is `force_chat_completions`; Dec 2025 and 0.1.104–0.1.129 builds test every
 *   OpenAI account through the Responses API.
 * - CN platforms: the joined chat URL, except 0.1.178's account test, which falls through to the
 *   Claude test at `{base}/v1/messages?beta=true` (account_test_service.go:288-304@49504adc).
 */
export function upstreamUrl(profile: SimProfile, account: SimAccount, purpose: "test" | "serve"): string {
  const base = String(account.credentials.base_url ?? "");
  if (account.platform === "openai") {
    const chatMode =
      profile.openaiChat === "mode_flag" && account.extra.openai_responses_mode === "force_chat_completions";
    const useChat = chatMode && (purpose === "serve" || profile.openaiTest === "per_mode");
    return joinEndpoint(profile, base, useChat ? "/chat/completions" : "/responses");
  }
  if (purpose === "test" && profile.cnTest === "claude") {
    return `${base.replace(/\/+$/, "")}/v1/messages?beta=true`;
  }
  return joinEndpoint(profile, base, "/chat/completions");
}
