import type {
  HostAccount,
  HostChannel,
  HostGroup,
  HostPlan,
  HostSubscription,
} from "../host/sub2api/types.js";
import { parseOwnership } from "./naming.js";

/**
 * Drift detection, decided purely: recorded resources (with the fields relay set) against what the
 * host lists. No I/O here; the reconcile runner fetches, calls this, and records the findings.
 */
export type FindingKind =
  | "missing"
  | "changed"
  | "unexpected"
  | "account_failing"
  | "access_broken"
  | "incompatible";

export type ReconcileTrigger = "manual" | "schedule" | "cli";
export type ReconcileOutcome = "ok" | "drift" | "degraded" | "error" | "skipped";

export interface Finding {
  kind: FindingKind;
  resource_type: string;
  name: string;
  host_resource_id: number | null;
  field?: string;
  expected?: unknown;
  actual?: unknown;
  message: string;
  /** Set when `--heal` repaired what the finding describes. */
  healed?: boolean;
}

export type Expectation =
  | { type: "group"; platform: string; subscription_type: string; status: "active" }
  | {
      type: "account";
      platform: string;
      group_id: number;
      base_url: string;
      model_mapping: Record<string, string>;
      status: "active";
      schedulable: true;
    }
  | { type: "channel"; group_id: number }
  | { type: "plan"; group_id: number }
  | { type: "subscription"; user_id: number; group_id: number };

export interface RecordedResource {
  name: string;
  hostResourceId: number;
  expect: Expectation;
}

export interface Observed {
  groups: HostGroup[];
  accounts: HostAccount[];
  channels: HostChannel[] | undefined;
  plans: HostPlan[] | undefined;
  /** Active subscriptions of the provider's group (revoked ones are not listed). */
  subscriptions: HostSubscription[] | undefined;
}

const sameMapping = (a: Record<string, string> | undefined, b: Record<string, string>) =>
  a !== undefined &&
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(b).every(([k, v]) => a[k] === v);

export function diffResources(
  providerId: string,
  recorded: RecordedResource[],
  observed: Observed,
): Finding[] {
  const findings: Finding[] = [];
  const byId = <T extends { id: number }>(list: T[] | undefined) =>
    new Map((list ?? []).map((x) => [x.id, x]));
  const groups = byId(observed.groups);
  const accounts = byId(observed.accounts);
  const channels = byId(observed.channels);
  const plans = byId(observed.plans);
  const subs = byId(observed.subscriptions);
  const changed = (r: RecordedResource, field: string, expected: unknown, actual: unknown) =>
    findings.push({
      kind: "changed",
      resource_type: r.expect.type,
      name: r.name,
      host_resource_id: r.hostResourceId,
      field,
      expected,
      actual,
      message: `${r.expect.type} ${r.name} (#${r.hostResourceId}): ${field} is ${JSON.stringify(actual)}, relay set ${JSON.stringify(expected)}`,
    });
  const missing = (r: RecordedResource) =>
    findings.push({
      kind: "missing",
      resource_type: r.expect.type,
      name: r.name,
      host_resource_id: r.hostResourceId,
      message: `${r.expect.type} ${r.name} (#${r.hostResourceId}) is gone from the host (deleted by hand?)`,
    });

  for (const r of recorded) {
    const e = r.expect;
    switch (e.type) {
      case "group": {
        const g = groups.get(r.hostResourceId);
        if (!g) missing(r);
        else {
          if (g.platform !== e.platform) changed(r, "platform", e.platform, g.platform);
          if (g.status !== e.status) changed(r, "status", e.status, g.status);
          if (g.subscriptionType !== e.subscription_type)
            changed(r, "subscription_type", e.subscription_type, g.subscriptionType);
        }
        break;
      }
      case "account": {
        const a = accounts.get(r.hostResourceId);
        if (!a) missing(r);
        else {
          if (a.status !== e.status) changed(r, "status", e.status, a.status);
          if (a.schedulable !== e.schedulable) changed(r, "schedulable", e.schedulable, a.schedulable);
          if (!a.groupIds.includes(e.group_id)) changed(r, "group_ids", [e.group_id], a.groupIds);
          if (a.baseUrl !== undefined && a.baseUrl !== e.base_url)
            changed(r, "base_url", e.base_url, a.baseUrl);
          if (!sameMapping(a.modelMapping, e.model_mapping))
            changed(r, "model_mapping", e.model_mapping, a.modelMapping ?? null);
          // Secrets are never compared: the host redacts them, and key identity is relay's hash.
        }
        break;
      }
      case "channel": {
        if (observed.channels === undefined) break;
        const c = channels.get(r.hostResourceId);
        if (!c) missing(r);
        else if (!c.groupIds.includes(e.group_id)) changed(r, "group_ids", [e.group_id], c.groupIds);
        break;
      }
      case "plan": {
        if (observed.plans === undefined) break;
        const p = plans.get(r.hostResourceId);
        if (!p) missing(r);
        else if (p.groupId !== e.group_id) changed(r, "group_id", e.group_id, p.groupId);
        break;
      }
      case "subscription": {
        if (observed.subscriptions === undefined) break;
        const s = subs.get(r.hostResourceId);
        if (!s) missing(r);
        else if (s.status !== "active") changed(r, "status", "active", s.status);
        else if (s.userId !== e.user_id) changed(r, "user_id", e.user_id, s.userId);
        break;
      }
    }
  }

  const known = new Set(recorded.map((r) => `${r.expect.type}:${r.hostResourceId}`));
  const ours = (text: string | undefined) => parseOwnership(text)?.providerId === providerId;
  const unexpected = (type: string, id: number, name: string, tag: string | undefined) => {
    if (!known.has(`${type}:${id}`) && ours(tag)) {
      findings.push({
        kind: "unexpected",
        resource_type: type,
        name,
        host_resource_id: id,
        message: `${type} ${name} (#${id}) carries relay's tag for ${providerId} but is not in relay's records (${tag})`,
      });
    }
  };
  for (const g of observed.groups) unexpected("group", g.id, g.name, g.description);
  for (const a of observed.accounts) unexpected("account", a.id, a.name, a.notes);
  for (const c of observed.channels ?? []) unexpected("channel", c.id, c.name, c.description);
  for (const p of observed.plans ?? []) unexpected("plan", p.id, p.name, p.description);
  return findings;
}

export type ProviderHealth = "active" | "installed" | "degraded" | "drifted" | "failed";

/** Provider status from findings: drift outranks degradation; a clean run is active when access is proven. */
export function statusFromFindings(
  findings: Finding[],
  accessProven: boolean,
): { status: ProviderHealth; reason: string } {
  const count = (k: FindingKind) => findings.filter((f) => f.kind === k).length;
  if (count("incompatible") > 0)
    return {
      status: "failed",
      reason: findings.find((f) => f.kind === "incompatible")?.message ?? "incompatible",
    };
  const drift = count("missing") + count("changed") + count("unexpected");
  if (drift > 0) {
    return {
      status: "drifted",
      reason: `${drift} drift finding(s): ${findings
        .filter((f) => ["missing", "changed", "unexpected"].includes(f.kind))
        .map((f) => f.message)
        .slice(0, 3)
        .join("; ")}`,
    };
  }
  const degraded = count("account_failing") + count("access_broken");
  if (degraded > 0) {
    return {
      status: "degraded",
      reason: findings
        .filter((f) => ["account_failing", "access_broken"].includes(f.kind))
        .map((f) => f.message)
        .slice(0, 3)
        .join("; "),
    };
  }
  return accessProven
    ? { status: "active", reason: "all resources match and access is proven" }
    : { status: "installed", reason: "all resources match; access not proven" };
}
