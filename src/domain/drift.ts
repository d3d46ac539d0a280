import type {
  HostAccount,
  HostChannel,
  HostGroup,
  HostPlan,
  HostSubscription,
} from "../host/sub2api/types.js";
import { type ManagedFields, managedFieldDifferences } from "./drift-fields.js";
import { madeByUs } from "./naming.js";

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

/** The repairs `reconcile --heal` makes: only those that need no plaintext key. */
export type HealAction = "rebind_account" | "reassign_subscription" | "recreate_channel";

/**
 * What `--heal` would do about a finding, or null when it leaves it: a missing account needs its
 * key again (relay keeps none), unexpected resources and failing keys are reported only.
 */
export function healAction(f: Finding): HealAction | null {
  if (f.healed) return null;
  if (f.kind === "changed" && f.resource_type === "account" && f.field === "group_ids")
    return "rebind_account";
  if (f.kind === "missing" && f.resource_type === "subscription") return "reassign_subscription";
  // An assign over an expired subscription renews it in place (subscription_service.go:521-536
  // @67380eafd), so re-assigning heals it without a second row.
  if (
    f.kind === "changed" &&
    f.resource_type === "subscription" &&
    f.field === "status" &&
    f.actual === "expired"
  )
    return "reassign_subscription";
  if (f.kind === "missing" && f.resource_type === "channel") return "recreate_channel";
  return null;
}

/**
 * A finding as the API shows it: with what `--heal` would do about it, and what the operator can
 * do (`next_step`, from domain/next-steps.ts) when it stays.
 */
export type DescribedFinding = Finding & { heal_action: HealAction | null; next_step: string | null };

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
  /** The other fields relay set (drift-fields.ts), compared by `managedFieldDifferences`. */
  managed?: ManagedFields;
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

type Difference = [field: string, expected: unknown, actual: unknown];
/** `undefined`: the host list was not read (the host lacks the feature), so nothing can be said. */
type Comparison = Difference[] | "missing" | undefined;

interface Indexed {
  groups: Map<number, HostGroup>;
  accounts: Map<number, HostAccount>;
  channels: Map<number, HostChannel> | undefined;
  plans: Map<number, HostPlan> | undefined;
  subscriptions: Map<number, HostSubscription> | undefined;
}

const byId = <T extends { id: number }>(list: T[]) => new Map(list.map((x) => [x.id, x]));
const indexOrUnread = <T extends { id: number }>(list: T[] | undefined) => (list ? byId(list) : undefined);

/** The fields relay set that the host no longer shows as set. */
function compare(e: Expectation, id: number, on: Indexed): Comparison {
  const diff = (pairs: [string, unknown, unknown, boolean][]): Difference[] =>
    pairs.filter(([, , , same]) => !same).map(([f, x, y]) => [f, x, y]);
  switch (e.type) {
    case "group": {
      const g = on.groups.get(id);
      if (!g) return "missing";
      return diff([
        ["platform", e.platform, g.platform, g.platform === e.platform],
        ["status", e.status, g.status, g.status === e.status],
        [
          "subscription_type",
          e.subscription_type,
          g.subscriptionType,
          g.subscriptionType === e.subscription_type,
        ],
      ]);
    }
    case "account": {
      const a = on.accounts.get(id);
      if (!a) return "missing";
      // Secrets are never compared: the host redacts them, and key identity is relay's hash.
      return diff([
        ["status", e.status, a.status, a.status === e.status],
        ["schedulable", e.schedulable, a.schedulable, a.schedulable === e.schedulable],
        ["group_ids", [e.group_id], a.groupIds, a.groupIds.includes(e.group_id)],
        ["base_url", e.base_url, a.baseUrl, a.baseUrl === undefined || a.baseUrl === e.base_url],
        [
          "model_mapping",
          e.model_mapping,
          a.modelMapping ?? null,
          sameMapping(a.modelMapping, e.model_mapping),
        ],
      ]);
    }
    case "channel": {
      if (!on.channels) return undefined;
      const c = on.channels.get(id);
      if (!c) return "missing";
      return diff([["group_ids", [e.group_id], c.groupIds, c.groupIds.includes(e.group_id)]]);
    }
    case "plan": {
      if (!on.plans) return undefined;
      const p = on.plans.get(id);
      if (!p) return "missing";
      return diff([["group_id", e.group_id, p.groupId, p.groupId === e.group_id]]);
    }
    case "subscription": {
      if (!on.subscriptions) return undefined;
      const sub = on.subscriptions.get(id);
      if (!sub) return "missing";
      if (sub.status !== "active") return [["status", "active", sub.status]];
      return diff([["user_id", e.user_id, sub.userId, sub.userId === e.user_id]]);
    }
  }
}

/**
 * Why the host's scheduler skips this account now, or undefined: a temp-unschedulable, rate-limit
 * or overload time still ahead (the host sets these without changing `status`/`schedulable`).
 */
export function accountPause(a: HostAccount, nowMs: number): string | undefined {
  const ahead = (t: string | undefined) => t !== undefined && Date.parse(t) > nowMs;
  const p = a.pause;
  if (ahead(p.tempUnschedulableUntil))
    return `temporarily unschedulable until ${p.tempUnschedulableUntil}${p.tempUnschedulableReason ? ` (${p.tempUnschedulableReason})` : ""}`;
  if (ahead(p.rateLimitResetAt)) return `rate-limited by its upstream until ${p.rateLimitResetAt}`;
  if (ahead(p.overloadUntil)) return `overloaded until ${p.overloadUntil}`;
  return undefined;
}

/**
 * `nowMs` judges the host's runtime pauses: a recorded account the host has paused serves nobody
 * although its status and schedulable flag look healthy, so it is reported as failing.
 */
export function diffResources(
  owner: { installId: string; providerId: string },
  recorded: RecordedResource[],
  observed: Observed,
  nowMs?: number,
): Finding[] {
  const on: Indexed = {
    groups: byId(observed.groups),
    accounts: byId(observed.accounts),
    channels: indexOrUnread(observed.channels),
    plans: indexOrUnread(observed.plans),
    subscriptions: indexOrUnread(observed.subscriptions),
  };
  const findings: Finding[] = [];
  for (const r of recorded) {
    const where = { resource_type: r.expect.type, name: r.name, host_resource_id: r.hostResourceId };
    const label = `${r.expect.type} ${r.name} (#${r.hostResourceId})`;
    const account = r.expect.type === "account" ? on.accounts.get(r.hostResourceId) : undefined;
    const pause = account && nowMs !== undefined ? accountPause(account, nowMs) : undefined;
    if (pause) findings.push({ kind: "account_failing", ...where, message: `${label} is ${pause}` });
    const result = compare(r.expect, r.hostResourceId, on);
    if (result === "missing") {
      findings.push({
        kind: "missing",
        ...where,
        message: `${label} is gone from the host (deleted by hand?)`,
      });
      continue;
    }
    const more = result && r.managed ? managedFieldDifferences(r.managed, r.hostResourceId, on) : [];
    for (const [field, expected, actual] of [...(result ?? []), ...more]) {
      findings.push({
        kind: "changed",
        ...where,
        field,
        expected,
        actual,
        message: `${label}: ${field} is ${JSON.stringify(actual)}, relay set ${JSON.stringify(expected)}`,
      });
    }
  }
  return [...findings, ...unexpected(owner, recorded, observed)];
}

/** Resources on the host that carry relay's tag for this provider but are in no record. */
function unexpected(
  owner: { installId: string; providerId: string },
  recorded: RecordedResource[],
  observed: Observed,
): Finding[] {
  const { installId, providerId } = owner;
  const known = new Set(recorded.map((r) => `${r.expect.type}:${r.hostResourceId}`));
  const tagged: [string, { id: number; name: string }, string | undefined][] = [
    ...observed.groups.map((g): [string, HostGroup, string | undefined] => ["group", g, g.description]),
    ...observed.accounts.map((a): [string, HostAccount, string | undefined] => ["account", a, a.notes]),
    ...(observed.channels ?? []).map((c): [string, HostChannel, string | undefined] => [
      "channel",
      c,
      c.description,
    ]),
    ...(observed.plans ?? []).map((p): [string, HostPlan, string | undefined] => ["plan", p, p.description]),
  ];
  return tagged
    .filter(([type, x, tag]) => !known.has(`${type}:${x.id}`) && madeByUs(x.name, tag, installId, providerId))
    .map(([type, x]) => ({
      kind: "unexpected" as const,
      resource_type: type,
      name: x.name,
      host_resource_id: x.id,
      message: `${type} ${x.name} (#${x.id}) was made by this installation for ${providerId} but is not in relay's records`,
    }));
}

export type OrphanAction = "adopt" | "delete" | "report";

/**
 * What reconcile does with a resource this installation made that no live record points to (a
 * create whose answer was lost, or that landed after the client gave up): adopt it into its batch
 * while that batch is live, delete it once the batch is rolled back or failed, and only report it
 * when no record names it (relay cannot tell which batch it belonged to) or its batch is mid-way
 * (recovery owns that).
 */
export function orphanAction(
  record: { state: string } | undefined,
  batchStatus: string | undefined,
): OrphanAction {
  if (!record || !batchStatus) return "report";
  if (batchStatus === "succeeded" || batchStatus === "partially_succeeded") return "adopt";
  if (batchStatus === "rolled_back" || batchStatus === "failed") return "delete";
  return "report";
}
