import type { Finding } from "./drift.js";
import type { ProviderDefinition } from "./pack/schema.js";

/**
 * The pack's models against what the upstream lists through the host (an account's
 * `models/sync-upstream`), decided purely and matched case-insensitively:
 * - `smoke_model_missing`: the model the smoke test sends upstream is not listed (account tests
 *   and the access proof will fail);
 * - `model_retired`: another model the accounts send upstream is not listed;
 * - `model_added`: the upstream lists a model the pack does not name at all.
 */
export function modelFindings(
  def: ProviderDefinition,
  modelMapping: Record<string, string>,
  listed: string[],
  via: { name: string; id: number },
): Finding[] {
  const have = new Set(listed.map((m) => m.toLowerCase()));
  const upstreamOf = (m: string) => modelMapping[m] ?? m;
  const smoke = upstreamOf(def.smoke_test_model);
  const lifecycle = def.model_lifecycle ?? {};
  const findings: Finding[] = [];
  const at = { resource_type: "model", host_resource_id: via.id };
  if (!have.has(smoke.toLowerCase()))
    findings.push({
      kind: "smoke_model_missing",
      ...at,
      name: smoke,
      message: `${def.provider_id}'s smoke model ${smoke} is no longer listed by its upstream (read through account ${via.name})`,
    });
  const sent = new Set([...def.default_models, ...Object.values(modelMapping)].map(upstreamOf));
  for (const model of [...sent].sort()) {
    if (model.toLowerCase() === smoke.toLowerCase() || have.has(model.toLowerCase())) continue;
    const replacement = lifecycle[model]?.replacement;
    findings.push({
      kind: "model_retired",
      ...at,
      name: model,
      ...(replacement ? { expected: replacement } : {}),
      message: `${model} is no longer listed by ${def.provider_id}'s upstream${replacement ? ` (the pack names ${replacement} as its replacement)` : ""}`,
    });
  }
  const known = new Set(
    [
      ...def.default_models,
      ...Object.keys(modelMapping),
      ...Object.values(modelMapping),
      ...Object.keys(lifecycle),
    ].map((m) => m.toLowerCase()),
  );
  const added = [...new Set(listed)].filter((m) => !known.has(m.toLowerCase())).sort();
  for (const model of added)
    findings.push({
      kind: "model_added",
      ...at,
      name: model,
      message: `${def.provider_id}'s upstream lists ${model}, which the pack does not name`,
    });
  return findings;
}
