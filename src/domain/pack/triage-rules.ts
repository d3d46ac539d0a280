import type { Add } from "./lifecycle.js";
import type { ProviderDefinition } from "./schema.js";

/**
 * `key_triage`: each shape once, and no rule hidden behind an earlier one (the first match wins,
 * so a status-only rule before a rule for the same status with a body code would swallow it).
 */
export function triageChecks(p: Partial<ProviderDefinition>, path: string, error: Add) {
  const rules = Array.isArray(p.key_triage) ? p.key_triage : [];
  const seen = new Map<string, number>();
  const statusOnly = new Map<number, number>();
  rules.forEach((rule, i) => {
    if (!rule || typeof rule !== "object" || !Number.isInteger(rule.status)) return;
    const code = typeof rule.body_code === "string" ? rule.body_code.toLowerCase() : undefined;
    const key = `${rule.status}|${code ?? ""}`;
    const at = `/key_triage/${i}`;
    const twin = seen.get(key);
    if (twin !== undefined) {
      error(
        "TRIAGE_RULE_DUPLICATE",
        path,
        `key_triage rule ${i} repeats rule ${twin} (HTTP ${rule.status}${code ? `, code ${rule.body_code}` : ""})`,
        at,
      );
      return;
    }
    seen.set(key, i);
    const wider = statusOnly.get(rule.status);
    if (code !== undefined && wider !== undefined)
      error(
        "TRIAGE_RULE_SHADOWED",
        path,
        `key_triage rule ${i} (HTTP ${rule.status}, code ${rule.body_code}) is never reached: rule ${wider} matches every HTTP ${rule.status} first`,
        at,
      );
    if (code === undefined) statusOnly.set(rule.status, i);
  });
}
