import type { AccessState } from "./access.js";
import { type Finding, type ReconcileOutcome, statusFromFindings } from "./drift.js";

/**
 * A provider's life on one host. `not_installed`: relay installed it once and every batch has
 * been rolled back, so nothing of it is on the host any more.
 */
export type ProviderStatus =
  | "discovered"
  | "validated"
  | "not_installed"
  | "installed"
  | "active"
  | "degraded"
  | "drifted"
  | "failed"
  | "disabled";

export type BatchStatus =
  | "pending"
  | "previewed"
  | "running"
  | "succeeded"
  | "partially_succeeded"
  | "failed"
  | "rollback_running"
  | "rolled_back";

export const FINAL_BATCH_STATUSES: readonly BatchStatus[] = [
  "succeeded",
  "partially_succeeded",
  "failed",
  "rolled_back",
];

/** Everything the provider's status and access state are decided from, read from the store. */
export interface ProviderFacts {
  disabled: boolean;
  /** Recorded resources still live on the host (the probe user, shared by providers, is not counted). */
  live: { groups: number; accounts: number };
  /** The newest batch of the provider on the host. */
  lastBatch?: { id: string; status: BatchStatus; reason: string; importFailed: boolean };
  /** A batch whose rollback stopped half-way: it is `failed` and still has live resources it created. */
  unfinishedRollback?: string;
  /** The newest access proof made after the live group was created. */
  proof?: { state: AccessState; reason: string };
  /** Findings of the newest reconcile run that finished after the last batch changed. */
  findings?: Finding[];
  /** The provider and the host's name, for the command a reason names. */
  names?: { providerId: string; hostName: string };
}

export interface ProviderState {
  status: ProviderStatus;
  reason: string;
  access: AccessState;
  accessReason: string;
}

const PROVEN: readonly AccessState[] = ["subscription_ready", "self_service_ready", "fully_ready"];

/**
 * The only place a provider status or access state is decided. Every operation (import,
 * rollback, recovery, access probe, reconcile) ends by recomputing it from stored facts.
 */
export function nextProviderState(f: ProviderFacts): ProviderState {
  const installed = f.live.groups + f.live.accounts > 0;
  const access = installed
    ? (f.proof ?? { state: "not_configured" as const, reason: "no access proof attempted yet" })
    : { state: "not_configured" as const, reason: "nothing of this provider is installed on the host" };
  const state = (status: ProviderStatus, reason: string): ProviderState => ({
    status,
    reason,
    access: access.state,
    accessReason: access.reason,
  });
  if (f.disabled) return state("disabled", "reconcile is disabled for this provider on this host");
  if (f.unfinishedRollback)
    return state(
      "drifted",
      `rollback of ${f.unfinishedRollback} incomplete; run \`relay batch rollback ${f.unfinishedRollback}\` again`,
    );
  if (!installed) {
    const b = f.lastBatch;
    if (!b) return state("validated", "pack compatible with host; nothing imported yet");
    if (b.importFailed) {
      const again = f.names
        ? `relay provider import ${f.names.providerId} --host ${f.names.hostName}`
        : "relay provider import";
      return state(
        "failed",
        `last import failed and left nothing on the host: ${b.reason}; fix the cause, then run \`${again}\` again`,
      );
    }
    if (b.status === "rolled_back")
      return state("not_installed", `batch ${b.id} rolled back; nothing of this provider is installed`);
    return state("failed", `batch ${b.id} is ${b.status}: ${b.reason}; see \`relay batch show ${b.id}\``);
  }
  const proven = PROVEN.includes(access.state);
  // Access is judged by the newest proof, not by the reconcile that may have run before it.
  const findings = (f.findings ?? []).filter((x) => x.kind !== "access_broken");
  if (findings.length > 0) {
    const decided = statusFromFindings(findings, proven);
    if (decided.status !== "active" && decided.status !== "installed")
      return state(decided.status, decided.reason);
  }
  if (proven) return state("active", `access proven: ${access.reason}`);
  if (access.state === "broken") return state("degraded", `access broken: ${access.reason}`);
  const n = f.live.accounts;
  return state("installed", `${n} working account(s); access not verified`);
}

/**
 * A reconcile's outcome (and `relay reconcile run`'s exit code) says what is on the host now:
 * drift when something there differs from the records (a drift or incompatibility finding, or a
 * rollback that left resources), degraded when accounts or access fail. A `failed` status with
 * nothing on the host (a strict import that rolled back cleanly) has nothing to report: ok.
 */
export function reconcileOutcome(status: ProviderStatus, findings: Finding[]): ReconcileOutcome {
  if (status === "drifted") return "drift";
  if (status === "degraded") return "degraded";
  if (status === "failed" && findings.some((x) => x.kind === "incompatible")) return "drift";
  return "ok";
}
