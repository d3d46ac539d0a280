import type { IgnoreRule } from "../config/index.js";
import type { Finding } from "./drift.js";
import { WATCHED_FIELDS } from "./drift-fields.js";

/** A difference a rule hid: shown in the output so an ignore never hides silently. */
export interface IgnoredDifference {
  rule: string;
  resource_type: string;
  name: string;
  host_resource_id: number | null;
  field: string;
  expected: unknown;
  actual: unknown;
}

/**
 * Rules naming a resource type or field reconcile does not watch: a typo would ignore nothing,
 * silently. The context refuses them at start (config/index.ts parses their syntax).
 */
export function unknownIgnoreTargets(rules: readonly IgnoreRule[]): { variable: string; problem: string }[] {
  const problems: { variable: string; problem: string }[] = [];
  for (const r of rules) {
    const fields = WATCHED_FIELDS[r.resource];
    const problem = !fields
      ? `"${r.text}": no resource type "${r.resource}" (${Object.keys(WATCHED_FIELDS).join(", ")})`
      : r.field !== "*" && !fields.includes(r.field)
        ? `"${r.text}": ${r.resource} has no watched field "${r.field}" (${fields.join(", ")})`
        : undefined;
    if (problem) problems.push({ variable: r.variable, problem });
  }
  return problems;
}

const matches = (r: IgnoreRule, providerId: string, f: Finding) =>
  f.kind === "changed" &&
  (r.provider === "*" || r.provider === providerId) &&
  r.resource === f.resource_type &&
  (r.field === "*" || r.field === f.field);

/** Splits a run's findings into those that count and the differences a rule hides. */
export function applyIgnoreRules(
  rules: readonly IgnoreRule[],
  providerId: string,
  findings: Finding[],
): { kept: Finding[]; ignored: IgnoredDifference[] } {
  const kept: Finding[] = [];
  const ignored: IgnoredDifference[] = [];
  for (const f of findings) {
    const rule = rules.find((r) => matches(r, providerId, f));
    if (!rule) {
      kept.push(f);
      continue;
    }
    ignored.push({
      rule: rule.text,
      resource_type: f.resource_type,
      name: f.name,
      host_resource_id: f.host_resource_id,
      field: f.field ?? "",
      expected: f.expected,
      actual: f.actual,
    });
  }
  return { kept, ignored };
}
