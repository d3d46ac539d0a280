import type { HostCapabilities } from "../host/sub2api/types.js";
import type { ProviderDefinition } from "./pack/schema.js";
import { compareVersions, parseHostVersion, type Version } from "./pack/version-range.js";

/**
 * Which sub2api builds can test *and* serve a provider's chat completions, and how. The facts come
 * from sub2api's source at dated release commits; docs/host-compatibility.md lists each with its
 * file, line and commit. A build is judged by its version together with what the capability probe
 * observed without writing (the group platforms it accepts, whether /v1/chat/completions exists).
 *
 * | builds          | CN platforms          | OpenAI fallback (force_chat_completions) | URL joining |
 * |-----------------|-----------------------|------------------------------------------|-------------|
 * | < 0.1.104       | none                  | no /v1/chat/completions at all           | v1 only     |
 * | 0.1.104–0.1.121 | none                  | chat is always converted to Responses    | v1 only     |
 * | 0.1.122–0.1.126 | none                  | account test refused (mode unknown <127) | v1 only     |
 * | 0.1.127–0.1.129 | none                  | account test refused                     | version dir |
 * | 0.1.130–0.1.177 | none                  | works                                    | version dir |
 * | 0.1.178         | kimi, zhipu, deepseek | works (CN platforms tested as Claude)    | version dir |
 * | 0.1.179+        | + minimax (≥ 0.2.4)   | works                                    | version dir |
 */
export const FIRST_CHAT_ROUTE = [0, 1, 104];
export const FIRST_WORKING_FALLBACK = [0, 1, 130];
export const FIRST_WORKING_CN_TEST = [0, 1, 179];
/**
 * Builds from here join `…/v4` as `…/v4/chat/completions`; older ones append `/v1/chat/completions`.
 * `buildOpenAIEndpointURL` (679c0865a) is used for chat completions from 0.1.127 (8927ab091,
 * `openai_gateway_chat_completions_raw.go:488`); 0.1.126 is /v1-only (`:428-437@62ccd0ff`).
 */
export const FIRST_VERSION_DIR_JOIN = [0, 1, 127];
/**
 * Native platforms the probe may see accepted but relay does not use: sub2api's MiniMax platform
 * (≥ 0.2.4, PR #6758) is read only from a PR description — whether it takes relay's
 * `account_mode: payg` and the international base `api.minimax.io`, and how its account test and
 * balance check treat them, is unverified. The OpenAI fallback is verified on every such build.
 */
export const UNVERIFIED_NATIVE_PLATFORMS: readonly string[] = ["minimax"];

/**
 * The newest release whose source was read (2bc139ab, plus upstream main 67380eafd): later builds,
 * the 0.2.x line included, are served by observation with a visible warning.
 */
export const LAST_VERIFIED_VERSION = [0, 1, 179];

export type ServingMode = "native" | "fallback";

export type ProviderSupport =
  | { status: "supported"; mode: ServingMode; platform: string }
  | { status: "unsupported"; code: string; reason: string; firstWorking?: string };

export interface HostFacts {
  version: string | null | undefined;
  caps: Pick<HostCapabilities, "cn_platforms" | "chat_completions">;
}

const text = (v: Version) => v.join(".");
const atLeast = (v: Version, min: number[]) => compareVersions(v, min) >= 0;

/**
 * sub2api's `isOpenAIAPIVersionSegment` (`service/openai_endpoint_url.go:46-80@63b0631a`, the same
 * at 67380eafd): `v<N>`, `v<N>.<M>`, or `v<N>` followed by anything starting with alpha/beta/preview.
 */
export function isApiVersionSegment(segment: string): boolean {
  return /^v\d+(?:\.\d+|(?:alpha|beta|preview).*)?$/.test(segment.trim().toLowerCase());
}

/** How `base_url` + `/chat/completions` is joined by this build (mirrors the host's own rule). */
export function joinedChatUrl(baseUrl: string, version: Version | undefined): string {
  const base = baseUrl.replace(/\/+$/, "");
  // A base that already names the endpoint is kept (buildOpenAIEndpointURL's suffix check).
  if (/\/chat\/completions$/.test(base)) return base;
  const lastSegment = base.slice(base.lastIndexOf("/") + 1);
  const versionDir = version !== undefined && atLeast(version, FIRST_VERSION_DIR_JOIN);
  const endsInVersion = versionDir ? isApiVersionSegment(lastSegment) : lastSegment === "v1";
  return endsInVersion ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
}

/** Whether a base URL keeps its meaning when the host joins it: a path that ends elsewhere than `/v1` breaks on old builds. */
function joinBreaks(baseUrl: string, version: Version | undefined): boolean {
  const path = new URL(baseUrl).pathname.replace(/\/+$/, "");
  if (path === "" || path === "/v1" || path.endsWith("/v1")) return false;
  const joined = new URL(joinedChatUrl(baseUrl, version)).pathname;
  return joined.startsWith(`${path}/v1/`);
}

/**
 * Decides, per provider, whether this host can serve it and through which platform. Pure. An
 * unknown version is judged by observation alone (the route and platform probes).
 */
export function providerSupport(def: ProviderDefinition, host: HostFacts): ProviderSupport {
  const version = host.version ? parseHostVersion(host.version) : undefined;
  const preferred = def.platforms.preferred;
  if (!host.caps.chat_completions || (version && !atLeast(version, FIRST_CHAT_ROUTE))) {
    return unsupported(
      "NO_CHAT_COMPLETIONS",
      "the host has no /v1/chat/completions, so no subscribed user could call the provider",
      FIRST_WORKING_FALLBACK,
    );
  }
  // 0.1.178 accepts the CN platforms but tests their accounts against the Claude endpoint, so a
  // native account there fails every test; its OpenAI fallback is the 0.1.130+ code and works
  // (account_test_service.go:557-558@63b0631a), so the provider is served through the fallback.
  const nativeAccepted =
    preferred !== "openai" &&
    host.caps.cn_platforms.includes(preferred) &&
    !UNVERIFIED_NATIVE_PLATFORMS.includes(preferred) &&
    !(version && !atLeast(version, FIRST_WORKING_CN_TEST));
  const mode: ServingMode = nativeAccepted || preferred === "openai" ? "native" : "fallback";
  if (mode === "fallback" && version && !atLeast(version, FIRST_WORKING_FALLBACK)) {
    return unsupported(
      "FALLBACK_UNAVAILABLE",
      `sub2api ${text(version)} has no ${preferred} platform, and its OpenAI platform cannot send chat completions to the provider unchanged (before 0.1.130 it converts them to the Responses API or refuses the account test)`,
      FIRST_WORKING_FALLBACK,
    );
  }
  if (joinBreaks(def.base_url, version)) {
    return unsupported(
      "BASE_URL_JOIN",
      `sub2api ${version ? text(version) : "(unknown version)"} joins ${def.base_url} as ${joinedChatUrl(def.base_url, version)}, which the provider does not serve`,
      // Joining is version-directory aware from 0.1.127, but a fallback account works from 0.1.130.
      mode === "fallback" ? FIRST_WORKING_FALLBACK : FIRST_VERSION_DIR_JOIN,
    );
  }
  return { status: "supported", mode, platform: mode === "native" ? preferred : def.platforms.fallback };
}

function unsupported(code: string, reason: string, firstWorking: number[]): ProviderSupport {
  return { status: "unsupported", code, reason, firstWorking: text(firstWorking) };
}
