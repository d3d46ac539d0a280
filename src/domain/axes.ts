import type { AccessState } from "./access.js";

/**
 * The part of a reconcile finding (drift.ts `Finding`) the axes read. Declared here so this module
 * imports nothing with a runtime: the web board imports its types.
 */
export interface AxisFinding {
  kind: string;
  resource_type: string;
  name: string;
  host_resource_id: number | null;
  field?: string;
  message: string;
}

/**
 * Two questions, answered apart (as Argo CD and Crossplane do): is the host as relay recorded it
 * (*sync*), and can users be served (*health*)? Both are decided here, purely, from facts the
 * store reads; the provider status of the design is derived from them by one rule (status.ts).
 */
export type SyncState = "in_sync" | "out_of_sync" | "unknown";
export type HealthState = "healthy" | "degraded" | "down" | "unknown";
export type Reachable = "yes" | "no" | "unknown";

/** Why an axis has its value: a stable code (the board translates it) and the free text. */
export type SyncCode =
  | "matches"
  | "drift"
  | "incompatible"
  | "rollback_incomplete"
  | "never_reconciled"
  | "not_reconciled_since_change";
export type HealthCode =
  | "serving"
  | "some_accounts_unusable"
  | "all_accounts_unusable"
  | "no_accounts"
  | "access_broken"
  | "nothing_installed"
  | "host_unreachable";

export interface SyncAxis {
  state: SyncState;
  code: SyncCode;
  reason: string;
}

export interface HealthAxis {
  state: HealthState;
  code: HealthCode;
  reason: string;
  /** Accounts relay recorded on the host, and how many of them cannot serve now. */
  accounts: { total: number; unusable: number };
}

export interface Axes {
  sync: SyncAxis;
  health: HealthAxis;
}

/** What both axes are decided from (a subset of the provider's facts, plus the host's reachability). */
export interface AxisFacts {
  /** Recorded resources still live on the host (the probe user, shared by providers, is not counted). */
  live: { groups: number; accounts: number };
  /** Findings of the newest reconcile since the last batch changed (undefined: none since). */
  findings?: AxisFinding[];
  /** When the provider was last reconciled at all (any run), to tell "never" from "not since". */
  lastReconcileAt?: string | null;
  /** A batch whose rollback stopped half-way: it is `failed` and still has live resources it created. */
  unfinishedRollback?: string;
  /** The newest gateway proof made against the live group. */
  proof?: { state: AccessState; reason: string };
  /** The host's reachability at its last probe (views pass it; a status decision does not). */
  host?: { reachable: Reachable; reason: string };
}

const DRIFT = new Set(["missing", "changed", "unexpected"]);
/** Account fields whose change takes the account out of serving this provider's users. */
const SERVING_FIELDS = new Set(["status", "schedulable", "group_ids"]);

/** Findings that mean an account cannot serve now: failing its test, paused by the host, gone, unbound. */
function unusableAccounts(findings: AxisFinding[]): { keys: Set<string>; messages: string[] } {
  const keys = new Set<string>();
  const messages: string[] = [];
  for (const f of findings) {
    if (f.resource_type !== "account") continue;
    const unusable =
      f.kind === "account_failing" ||
      f.kind === "missing" ||
      (f.kind === "changed" && SERVING_FIELDS.has(f.field ?? ""));
    if (!unusable) continue;
    const key = f.host_resource_id !== null ? `#${f.host_resource_id}` : f.name;
    if (!keys.has(key)) messages.push(f.message);
    keys.add(key);
  }
  return { keys, messages };
}

const some = (messages: string[]) =>
  `${messages.slice(0, 3).join("; ")}${messages.length > 3 ? ` (+${messages.length - 3} more)` : ""}`;

/**
 * Health: `down` when no working account remains (every one failing, paused by the host, gone
 * or unbound) or the newest gateway proof failed; `degraded` when some but not all accounts are
 * unusable; `unknown` when nothing is installed or the host did not answer its last probe.
 */
export function deriveHealth(f: AxisFacts): HealthAxis {
  const total = f.live.accounts;
  const installed = f.live.groups + total > 0;
  const { keys, messages } = unusableAccounts(f.findings ?? []);
  const unusable = Math.min(keys.size, total);
  const axis = (state: HealthState, code: HealthCode, reason: string): HealthAxis => ({
    state,
    code,
    reason,
    accounts: { total, unusable },
  });
  if (!installed) return axis("unknown", "nothing_installed", "nothing of this provider is on the host");
  if (f.host?.reachable === "no")
    return axis("unknown", "host_unreachable", `the host did not answer its last probe: ${f.host.reason}`);
  if (total === 0)
    return axis("down", "no_accounts", "the group has no account relay made: nothing serves it");
  if (unusable >= total)
    return axis("down", "all_accounts_unusable", `all ${total} account(s) unusable: ${some(messages)}`);
  if (f.proof?.state === "broken")
    return axis("down", "access_broken", `the newest gateway proof failed: ${f.proof.reason}`);
  if (unusable > 0)
    return axis(
      "degraded",
      "some_accounts_unusable",
      `${unusable} of ${total} account(s) unusable: ${some(messages)}`,
    );
  const proven = f.proof && f.proof.state !== "not_configured" ? "; access proven" : "";
  return axis("healthy", "serving", `${total} account(s), none failing${proven}`);
}

/**
 * Sync: `out_of_sync` when the newest reconcile found the host differing from the records
 * (missing, changed, unexpected, an incompatible host version) or a rollback left resources;
 * `unknown` when no reconcile has run since the last import or rollback.
 */
export function deriveSync(f: AxisFacts): SyncAxis {
  if (f.unfinishedRollback)
    return {
      state: "out_of_sync",
      code: "rollback_incomplete",
      reason: `rollback of ${f.unfinishedRollback} incomplete: resources it created are still on the host`,
    };
  if (f.findings === undefined)
    return f.lastReconcileAt
      ? {
          state: "unknown",
          code: "not_reconciled_since_change",
          reason: "not reconciled since the last import or rollback",
        }
      : { state: "unknown", code: "never_reconciled", reason: "never reconciled" };
  const incompatible = f.findings.find((x) => x.kind === "incompatible");
  if (incompatible) return { state: "out_of_sync", code: "incompatible", reason: incompatible.message };
  const drift = f.findings.filter((x) => DRIFT.has(x.kind));
  if (drift.length > 0)
    return {
      state: "out_of_sync",
      code: "drift",
      reason: `${drift.length} drift finding(s): ${some(drift.map((x) => x.message))}`,
    };
  return { state: "in_sync", code: "matches", reason: "the host matches relay's records" };
}

/** Both axes of a provider on a host, from its facts: the one function every view reads. */
export function deriveAxes(f: AxisFacts): Axes {
  return { sync: deriveSync(f), health: deriveHealth(f) };
}

export interface HostReachability {
  reachable: Reachable;
  /** When the host last answered a probe. */
  last_probe_ok_at: string | null;
  /** The newest probe failure after that, short and sanitised (null when the last probe passed). */
  last_error: { at: string; code: string; message: string } | null;
}

/** Codes of a probe failure that mean the host did not answer (not: answered with a refusal). */
const UNREACHABLE_CODES = new Set(["HOST_UNREACHABLE", "HOST_UNAVAILABLE"]);

/**
 * A host is unreachable when its newest probe failed because it did not answer (network,
 * timeout, 5xx after retries); a refusal (a revoked admin key, a rate limit) is an answer, so the
 * host stays reachable with the error shown. Never probed: unknown.
 */
export function hostReachability(
  lastProbeOkAt: string | null,
  lastFailure: { at: string; code: string; message: string } | undefined,
): HostReachability {
  const failedSince = lastFailure && (lastProbeOkAt === null || lastFailure.at > lastProbeOkAt);
  if (failedSince)
    return {
      reachable: UNREACHABLE_CODES.has(lastFailure.code) ? "no" : "yes",
      last_probe_ok_at: lastProbeOkAt,
      last_error: lastFailure,
    };
  return {
    reachable: lastProbeOkAt === null ? "unknown" : "yes",
    last_probe_ok_at: lastProbeOkAt,
    last_error: null,
  };
}

const HEALTH_RANK: Record<HealthState, number> = { down: 0, degraded: 1, unknown: 3, healthy: 4 };

/** Severity order of the board and lists: down, degraded, out of sync, then the rest (lower first). */
export function severity(a: Axes): number {
  if (a.health.state === "down") return 0;
  if (a.health.state === "degraded") return 1;
  if (a.sync.state === "out_of_sync") return 2;
  return HEALTH_RANK[a.health.state];
}
