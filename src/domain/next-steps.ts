import { type DescribedFinding, type Finding, healAction } from "./drift.js";

/** Who a finding is about: the provider and the host's name, as the operator types them. */
export interface Target {
  providerId: string;
  hostName: string;
}

/**
 * What the operator can do about a finding that stays: a `relay …` command (the same verbs as
 * the API's routes). Null for a finding `--heal` repaired. Decided from the finding alone, so the
 * CLI, the API and the board say the same thing.
 */
export function nextStep(f: Finding, t: Target): string | null {
  if (f.healed) return null;
  const on = `${t.providerId} --host ${t.hostName}`;
  if (healAction(f) !== null) return `relay provider reconcile ${on} --heal`;
  switch (f.kind) {
    case "missing":
      return f.resource_type === "account"
        ? `relay provider import ${on} --keys-file FILE --mode partial (with the key of ${f.name}: relay keeps no key)`
        : `relay provider resources ${on} names its batch; relay batch rollback BATCH_ID --yes, then relay provider import ${on}`;
    case "changed":
      // After a pack upgrade, the accounts still carry the old version's mapping.
      if (f.resource_type === "account" && f.field === "model_mapping")
        return `if the installed pack changed ${t.providerId}'s models: relay provider migrate ${on} --dry-run (then --yes); otherwise set account.model_mapping back to ${JSON.stringify(f.expected)} on the host; then relay provider reconcile ${on}`;
      return `set ${f.resource_type}.${f.field} back to ${JSON.stringify(f.expected)} on the host, or ignore it with RELAY_DRIFT_IGNORE="${t.providerId}:${f.resource_type}.${f.field}"; then relay provider reconcile ${on}`;
    case "unexpected":
      // An object under one of relay's names that relay did not make (reconcile/resolve.ts): it is
      // someone's own; relay never touches it, and it reads as drift until it is renamed.
      if (f.field === "name")
        return `${f.resource_type} #${f.host_resource_id} is not relay's: rename it on the host (it carries one of relay's names), or delete it if nothing uses it; then relay provider reconcile ${on}`;
      return `delete ${f.resource_type} #${f.host_resource_id} on the host if nothing uses it; then relay provider reconcile ${on}`;
    case "account_failing":
      // A dead key is replaced in place (same account id, bindings, subscriptions): relay provider rotate.
      return `check the key of ${f.name} with its provider, or replace it in place: relay provider rotate ${on} --keys-file NEW --accounts ${f.host_resource_id ?? "revoked"}; relay provider reconcile ${on} --retest failed follows it`;
    case "access_broken":
      return `relay access status ${on} --probe`;
    case "smoke_model_missing":
      return `install a pack version whose smoke_test_model ${t.providerId} still serves (relay pack install PATH), then relay provider reconcile ${on}`;
    case "model_retired":
      return typeof f.expected === "string"
        ? `move users from ${f.name} to ${f.expected}: install a pack version that names ${f.expected} as its replacement, then relay provider migrate ${on} (an alias: users' calls with ${f.name} keep working)`
        : `drop ${f.name} from the pack's default_models in a new pack version, then relay provider reconcile ${on}`;
    case "model_added":
      return `add ${f.name} to the pack's default_models in a new pack version if users should reach it; nothing to do otherwise`;
    case "incompatible":
      return `relay pack install PATH (a pack whose host.version_range includes the host), or upgrade sub2api and run relay host probe ${t.hostName}`;
  }
}

export function describeFindings(findings: Finding[], t: Target): DescribedFinding[] {
  return findings.map((f) => ({ ...f, heal_action: healAction(f), next_step: nextStep(f, t) }));
}
