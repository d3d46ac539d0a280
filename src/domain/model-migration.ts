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
