import type { AccessState } from "./access.js";
import { type Axes, type AxisFacts, deriveAxes } from "./axes.js";
import type { Finding, ReconcileOutcome } from "./drift.js";

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
export interface ProviderFacts extends AxisFacts {
  disabled: boolean;
  findings?: Finding[];
  /** The newest batch of the provider on the host. */
  lastBatch?: { id: string; status: BatchStatus; reason: string; importFailed: boolean };
  /** The provider and the host's name, for the command a reason names. */
  names?: { providerId: string; hostName: string };
}

export interface ProviderState extends Axes {
  status: ProviderStatus;
  reason: string;
  access: AccessState;
  accessReason: string;
}

const PROVEN: readonly AccessState[] = ["subscription_ready", "self_service_ready", "fully_ready"];

/**
 * The only place a provider status or access state is decided. Every operation (import,
 * rollback, recovery, access probe, reconcile) ends by recomputing it from stored facts: first
 * the two axes (domain/axes.ts), then the status from them by `statusFromAxes`.
 */
export function nextProviderState(f: ProviderFacts): ProviderState {
  const installed = f.live.groups + f.live.accounts > 0;
  const access = installed
    ? (f.proof ?? { state: "not_configured" as const, reason: "no access proof attempted yet" })
    : { state: "not_configured" as const, reason: "nothing of this provider is installed on the host" };
  // A status is about relay's records and the host's answers, not about the last probe of the host.
  const axes = deriveAxes({ ...f, host: undefined });
  const { status, reason } = statusFromAxes(f, axes, access);
  return { status, reason, access: access.state, accessReason: access.reason, ...axes };
}

/**
 * The design's provider status, derived from the two axes by one rule, so clients that read
 * `status` keep its meaning: out of sync is `drifted` (an incompatible host version is `failed`),
 * a `down` or `degraded` health is `degraded`, else `active` with access proven or `installed`.
 * Without anything installed the status tells the batch history (validated, failed, not_installed).
 */
export function statusFromAxes(
  f: Pick<ProviderFacts, "disabled" | "live" | "lastBatch" | "names" | "unfinishedRollback">,
  axes: Axes,
  access: { state: AccessState; reason: string },
): { status: ProviderStatus; reason: string } {
  const state = (status: ProviderStatus, reason: string) => ({ status, reason });
  if (f.disabled) return state("disabled", "reconcile is disabled for this provider on this host");
  if (f.unfinishedRollback) {
    const id = f.unfinishedRollback;
    return state("drifted", `rollback of ${id} incomplete; run \`relay batch rollback ${id}\` again`);
  }
  if (f.live.groups + f.live.accounts === 0) {
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
  if (axes.sync.code === "incompatible") return state("failed", axes.sync.reason);
  if (axes.sync.state === "out_of_sync") return state("drifted", axes.sync.reason);
  if (axes.health.state === "down" || axes.health.state === "degraded") {
    const h = axes.health;
    return state("degraded", h.code === "access_broken" ? `access broken: ${access.reason}` : h.reason);
  }
  if (PROVEN.includes(access.state)) return state("active", `access proven: ${access.reason}`);
  return state("installed", `${f.live.accounts} working account(s); access not verified`);
}

/**
 * A reconcile's outcome (and `relay reconcile run`'s exit code) reads the same two axes: drift
 * when the host is out of sync with the records, degraded when its health is down or degraded.
 * A `failed` status with nothing on the host (a strict import that rolled back cleanly) has
 * nothing to report: ok.
 */
export function reconcileOutcome(axes: Axes): ReconcileOutcome {
  if (axes.sync.state === "out_of_sync") return "drift";
  if (axes.health.state === "down" || axes.health.state === "degraded") return "degraded";
  return "ok";
}
