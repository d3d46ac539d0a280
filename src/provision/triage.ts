import type { AppContext } from "../app/context.js";
import {
  answerFromPreview,
  answerFromTest,
  classifyAnswer,
  DEFAULT_TRIAGE,
  type KeyTriage,
  nextStep,
  type TriageGroup,
  triageReason,
  type UpstreamAnswer,
} from "../domain/key-triage.js";
import { mapProvider } from "../domain/mapping.js";
import type { KeyClass, ProviderDefinition } from "../domain/pack/schema.js";
import { isHostError } from "../host/sub2api/index.js";
import { currentProviderDefinitions } from "../store/packs.js";
import type { PlanInternals } from "./types.js";

export type { KeyTriage, TriageGroup } from "../domain/key-triage.js";

export const READY: KeyTriage = {
  class: "ready",
  reason: "the provider accepted the key",
  next_step: "none",
  suggested_provider: null,
  upstream_status: 200,
};

/** The other regions of this provider's family in the installed packs (kimi → kimi-intl). */
export async function siblingProviders(
  ctx: AppContext,
  def: ProviderDefinition,
): Promise<ProviderDefinition[]> {
  if (!def.family) return [];
  return (await currentProviderDefinitions(ctx)).filter(
    (p) => p.family === def.family && p.provider_id !== def.provider_id,
  );
}

/** The upstream's answer to the host's model preview of this key at this provider's base URL. */
export async function previewAnswer(
  internals: Pick<PlanInternals, "adapter" | "host" | "caps">,
  def: ProviderDefinition,
  secret: string,
): Promise<UpstreamAnswer | undefined> {
  const mapping = mapProvider(def, { version: internals.host.version, caps: internals.caps });
  try {
    await internals.adapter.previewUpstreamModels({
      platform: mapping.platform,
      baseUrl: mapping.baseUrl,
      apiKey: secret,
    });
    return { status: 200, body: undefined, bodySeen: false, via: "precheck" };
  } catch (err) {
    return isHostError(err) ? answerFromPreview(err.status, err.message) : undefined;
  }
}

/**
 * A 401 alone cannot tell a revoked key from one of another region (Qwen and Kimi answer both
 * with 401). The key is shown to each sibling region through the host's model preview, which
 * stores nothing: one that accepts it is where the key belongs. Without the preview, or when a
 * sibling's answer proves nothing, the class stays `revoked` and the next step names the siblings.
 */
async function regionOf(
  ctx: AppContext,
  internals: PlanInternals,
  secret: string,
): Promise<{ found?: string; siblings: string[] }> {
  const siblings = await siblingProviders(ctx, internals.def);
  if (siblings.length === 0 || !internals.caps.models_preview) return { siblings: siblings.map(id) };
  for (const sibling of siblings) {
    const answer = await previewAnswer(internals, sibling, secret);
    if (answer?.status === 200) return { found: sibling.provider_id, siblings: siblings.map(id) };
  }
  return { siblings: siblings.map(id) };
}

const id = (p: ProviderDefinition) => p.provider_id;

/**
 * The class of one key from its provider's answer, with the reason in the provider's own words
 * and what to do. A `revoked` verdict of a provider with sibling regions is checked against them.
 */
export async function triageAnswer(
  ctx: AppContext,
  internals: PlanInternals,
  secret: string,
  answer: UpstreamAnswer,
): Promise<KeyTriage & { ambiguous: boolean }> {
  const { def } = internals;
  const verdict = classifyAnswer(def.key_triage ?? DEFAULT_TRIAGE, answer);
  let reason = triageReason(def.display_name, answer, verdict);
  let cls = verdict.class;
  let hint: { suggested?: string; siblings?: string[] } = {};
  if (cls === "revoked" && answer.status === 401) {
    const region = await regionOf(ctx, internals, secret);
    if (region.found) {
      cls = "wrong_region";
      reason = `${reason}; ${region.found} accepts it`;
      hint = { suggested: region.found };
    } else if (region.siblings.length > 0) {
      hint = { siblings: region.siblings };
    }
  }
  return {
    class: cls,
    reason,
    next_step: nextStep(cls, hint),
    suggested_provider: hint.suggested ?? null,
    upstream_status: answer.status ?? null,
    ambiguous: verdict.ambiguous,
  };
}

/** The class of a key whose account test failed, from the test's error event. */
export async function testFailureTriage(
  ctx: AppContext,
  internals: PlanInternals,
  secret: string,
  error: string | undefined,
): Promise<KeyTriage> {
  const answer = answerFromTest(error ?? "the test failed without an error event");
  const { ambiguous: _ambiguous, ...triage } = await triageAnswer(ctx, internals, secret, answer);
  return triage;
}

/** Counts per class, every class named (zeros too), for results and metrics. */
export function classCounts(classes: (KeyClass | null)[]): Record<KeyClass, number> {
  const counts: Record<KeyClass, number> = {
    ready: 0,
    revoked: 0,
    balance_empty: 0,
    wrong_region: 0,
    rate_limited: 0,
    unknown: 0,
  };
  for (const c of classes) if (c) counts[c] += 1;
  return counts;
}

/** A key's recorded triage; keys recorded before triage existed get one from their status. */
export function recordedTriage(status: string, result: Record<string, unknown>): KeyTriage | null {
  const t = result.triage as Partial<KeyTriage> | undefined;
  if (t && typeof t.class === "string" && typeof t.reason === "string") {
    return {
      class: t.class,
      reason: t.reason,
      next_step: typeof t.next_step === "string" ? t.next_step : nextStep(t.class),
      suggested_provider: typeof t.suggested_provider === "string" ? t.suggested_provider : null,
      upstream_status: typeof t.upstream_status === "number" ? t.upstream_status : null,
    };
  }
  if (status === "tested" || status === "reused") return READY;
  if (status === "failed")
    return {
      class: "unknown",
      reason: "the key failed before its provider was asked",
      next_step: nextStep("unknown"),
      suggested_provider: null,
      upstream_status: null,
    };
  return null;
}

/** The keys that need something done, grouped by class (and, for wrong_region, by region). */
export function triageGroups(
  keys: { key: string; line: number | null; triage: KeyTriage | null }[],
): TriageGroup[] {
  const groups = new Map<string, TriageGroup>();
  for (const k of keys) {
    const t = k.triage;
    if (!t || t.class === "ready") continue;
    const at = `${t.class}|${t.suggested_provider ?? ""}`;
    const g = groups.get(at) ?? {
      class: t.class,
      count: 0,
      next_step: t.next_step,
      suggested_provider: t.suggested_provider,
      keys: [],
    };
    g.count += 1;
    g.keys.push({ key: k.key, line: k.line });
    groups.set(at, g);
  }
  return [...groups.values()];
}
