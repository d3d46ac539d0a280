import type { ModelLifecycle, ProviderDefinition } from "./schema.js";

/** Adds one issue to a validation report (validate.ts). */
export type Add = (code: string, file: string | null, message: string, pointer?: string | null) => void;

/** `YYYY-MM-DD` as UTC midnight, or undefined when it is not a day that exists (2026-02-30). */
export function parseIsoDay(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text ? d : undefined;
}

const pointerKey = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * `model_lifecycle`: real dates, retirement not before deprecation, and a replacement that this
 * provider serves (one of its `default_models`, not the model itself) — an old name is moved to it.
 */
export function lifecycleChecks(p: Partial<ProviderDefinition>, path: string, error: Add) {
  const lifecycle = p.model_lifecycle;
  if (!lifecycle || typeof lifecycle !== "object") return;
  const models = Array.isArray(p.default_models) ? p.default_models : [];
  for (const [model, entry] of Object.entries(lifecycle)) {
    if (!entry || typeof entry !== "object") continue;
    const at = `/model_lifecycle/${pointerKey(model)}`;
    for (const field of ["deprecated_at", "retired_at"] as const) {
      const day = entry[field];
      if (typeof day === "string" && /^\d{4}-\d{2}-\d{2}$/.test(day) && !parseIsoDay(day))
        error(
          "MODEL_DATE_INVALID",
          path,
          `${model}: ${field} "${day}" is not a calendar day`,
          `${at}/${field}`,
        );
    }
    const { deprecated_at: deprecated, retired_at: retired } = entry;
    if (typeof deprecated === "string" && typeof retired === "string" && retired < deprecated) {
      error(
        "MODEL_DATES_OUT_OF_ORDER",
        path,
        `${model}: retired_at ${retired} is before deprecated_at ${deprecated}`,
        `${at}/retired_at`,
      );
    }
    const replacement = entry.replacement;
    if (typeof replacement === "string" && (replacement === model || !models.includes(replacement))) {
      error(
        "REPLACEMENT_INVALID",
        path,
        replacement === model
          ? `${model}: a model cannot replace itself`
          : `${model}: replacement "${replacement}" is not in this provider's default_models`,
        `${at}/replacement`,
      );
    }
  }
}

/** The lifecycle state of a model on a day (`YYYY-MM-DD`), from its dated facts. */
export function lifecycleState(
  entry: ModelLifecycle | undefined,
  today: string,
): "retired" | "deprecated" | "current" {
  if (entry?.retired_at !== undefined && entry.retired_at <= today) return "retired";
  if (entry?.deprecated_at !== undefined && entry.deprecated_at <= today) return "deprecated";
  return "current";
}

/**
 * Warns when a model this provider's accounts send upstream (its smoke model, a default model, the
 * target of an alias) is, on `today`, past its `retired_at` or `deprecated_at`.
 */
export function retirementWarnings(p: Partial<ProviderDefinition>, path: string, today: string, warn: Add) {
  const lifecycle = p.model_lifecycle;
  if (!lifecycle || typeof lifecycle !== "object") return;
  const used: [model: string, role: string, pointer: string][] = [];
  if (typeof p.smoke_test_model === "string")
    used.push([p.smoke_test_model, "smoke_test_model", "/smoke_test_model"]);
  if (Array.isArray(p.default_models)) {
    p.default_models.forEach((m, i) => {
      if (m !== p.smoke_test_model) used.push([m, "default model", `/default_models/${i}`]);
    });
  }
  for (const [alias, target] of Object.entries(p.model_mapping ?? {})) {
    if (typeof target === "string")
      used.push([target, `model_mapping target (of ${alias})`, `/model_mapping/${pointerKey(alias)}`]);
  }
  for (const [model, role, pointer] of used) {
    const entry = lifecycle[model];
    const state = lifecycleState(entry, today);
    if (state === "current" || !entry) continue;
    const since = state === "retired" ? entry.retired_at : entry.deprecated_at;
    const instead = entry.replacement ? `; use ${entry.replacement}` : "";
    warn(
      state === "retired" ? "MODEL_RETIRED" : "MODEL_DEPRECATED",
      path,
      `${role} "${model}" is ${state} since ${since} (as of ${today})${instead}`,
      pointer,
    );
  }
}

/**
 * Region variants: providers of one `family` each name their `region`, each region once, and the
 * family's default (the provider whose id is the family's) is in the pack.
 */
export function familyChecks(
  providers: { path: string; p: Partial<ProviderDefinition> }[],
  error: Add,
  warn: Add,
) {
  const byFamily = new Map<string, { path: string; p: Partial<ProviderDefinition> }[]>();
  for (const item of providers) {
    const family = item.p.family;
    if (typeof family !== "string") continue;
    byFamily.set(family, [...(byFamily.get(family) ?? []), item]);
  }
  for (const [family, members] of byFamily) {
    const regions = new Map<string, string>();
    for (const { path, p } of members) {
      if (typeof p.region !== "string") {
        error("REGION_MISSING", path, `provider is in family "${family}" but names no region`, "/region");
        continue;
      }
      const other = regions.get(p.region);
      if (other)
        error(
          "REGION_DUPLICATE",
          path,
          `family "${family}" has region "${p.region}" also in ${other}`,
          "/region",
        );
      regions.set(p.region, path);
    }
    if (!members.some(({ p }) => p.provider_id === family)) {
      warn(
        "FAMILY_DEFAULT_MISSING",
        members[0]?.path ?? null,
        `no provider "${family}" in the pack: a family's default (unsuffixed) provider is its home region`,
        "/family",
      );
    }
  }
}
