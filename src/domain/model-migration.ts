import type { ProviderDefinition } from "./pack/schema.js";

/** One old model name moved onto its replacement. */
export interface ModelAlias {
  from: string;
  to: string;
}

/**
 * The renames a pack version declares: every `model_lifecycle` entry with a `replacement`
 * (the schema's validator already keeps the replacement among the provider's `default_models`).
 * Sorted by the old name, so a plan reads the same each time.
 */
export function declaredRenames(def: Pick<ProviderDefinition, "model_lifecycle">): ModelAlias[] {
  return Object.entries(def.model_lifecycle ?? {})
    .flatMap(([from, l]) => (l.replacement && l.replacement !== from ? [{ from, to: l.replacement }] : []))
    .sort((a, b) => a.from.localeCompare(b.from));
}

/**
 * What an account's `model_mapping` becomes: for each rename whose old name the account serves
 * (a key of its mapping — sub2api chooses accounts by the name the user sent, account.go:825-847
 * @67380eafd), the old name now maps to the replacement. Every other entry is kept as it is. An
 * empty mapping is left alone: on sub2api it means "every model", and one entry would turn it into
 * a whitelist of that entry. `aliases` lists only what changes.
 */
export function migrateAccountMapping(
  mapping: Record<string, string>,
  renames: ModelAlias[],
): { after: Record<string, string>; aliases: ModelAlias[] } {
  const after = { ...mapping };
  const aliases: ModelAlias[] = [];
  if (Object.keys(mapping).length === 0) return { after, aliases };
  for (const r of renames) {
    if (!Object.hasOwn(mapping, r.from) || mapping[r.from] === r.to) continue;
    after[r.from] = r.to;
    aliases.push(r);
  }
  return { after, aliases };
}

/**
 * What a channel's `model_mapping` (platform → {from → to}) becomes: the aliases added under the
 * group's platform, every other platform and entry kept. sub2api's channel renames the model in
 * the body before the chosen account's own mapping applies (openai_chat_completions.go:111,231-234),
 * and matches the old name lower-cased (channel_service.go:261), so an entry differing only in case
 * counts as the same.
 */
export function migrateChannelMapping(
  mapping: Record<string, Record<string, string>>,
  platform: string,
  aliases: ModelAlias[],
): { after: Record<string, Record<string, string>>; aliases: ModelAlias[] } {
  const current = mapping[platform] ?? {};
  const entries = { ...current };
  const added: ModelAlias[] = [];
  for (const a of aliases) {
    const existing = Object.keys(entries).find((k) => k.toLowerCase() === a.from.toLowerCase());
    if (existing !== undefined && entries[existing] === a.to) continue;
    if (existing !== undefined) delete entries[existing];
    entries[a.from] = a.to;
    added.push(a);
  }
  if (added.length === 0) return { after: structuredClone(mapping), aliases: [] };
  return { after: { ...structuredClone(mapping), [platform]: entries }, aliases: added };
}

/** Same keys and values, whatever the order: how a mapping read back is compared with a recorded one. */
export function sameMapping(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/** A channel price entry as relay writes and reads it (USD per token, the host's unit). */
export interface ChannelPrice {
  platform: string;
  models: string[];
  inputPrice: number;
  outputPrice: number;
}

/**
 * The channel pricing a migrated channel should carry: the pack's entries, each also pricing the
 * old names the channel's mapping sends to one of its models (under the entry's platform). sub2api
 * bills by the requested name unless the channel says otherwise (`billing_model_source`), so an old
 * name the alias keeps serving stays priced — at its replacement's price, the model that serves it.
 * A name the pack prices itself keeps its own entry. The one rule of both `relay provider migrate`
 * (what it writes) and reconcile (what it expects).
 */
export function pricingServing(
  pricing: readonly ChannelPrice[],
  mapping: Record<string, Record<string, string>>,
): ChannelPrice[] {
  const priced = new Set(pricing.flatMap((p) => p.models.map((m) => `${p.platform}\n${m.toLowerCase()}`)));
  return pricing.map((p) => {
    const extra = Object.entries(mapping[p.platform] ?? {})
      .filter(([from, to]) => p.models.includes(to) && !priced.has(`${p.platform}\n${from.toLowerCase()}`))
      .map(([from]) => from)
      .sort();
    return { ...p, models: [...p.models, ...extra] };
  });
}

/** Same entries (platform, model set, prices), whatever the order. */
export function samePrices(a: readonly ChannelPrice[], b: readonly ChannelPrice[]): boolean {
  const key = (p: ChannelPrice) =>
    `${p.platform}|${[...p.models].sort().join(",")}|${p.inputPrice}|${p.outputPrice}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** What a recorded change's fields say of a resource: its model_mapping, and a channel's pricing when recorded. */
export interface ShownMapping {
  model_mapping: unknown;
  model_pricing?: ChannelPrice[];
}

/** The host shows `fields`: the same model_mapping, and the same pricing when `fields` has one. */
export function shows(shown: ShownMapping, fields: Record<string, unknown>): boolean {
  if (!sameMapping(shown.model_mapping, fields.model_mapping ?? {})) return false;
  const pricing = fields.model_pricing as ChannelPrice[] | undefined;
  return pricing === undefined || samePrices(shown.model_pricing ?? [], pricing);
}
