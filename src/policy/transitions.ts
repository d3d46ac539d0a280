import type { Alert } from "../alerts/messages.js";
import type { HealthState } from "../domain/health-policy.js";

// `degraded` (tests or the access proof failing) is the health alert's to tell; sync is the host
// against the records.
const PROBLEM_STATUSES = new Set(["drifted", "failed"]);

/**
 * The alert for a health transition, or null: one message per change of state, a resolved one when
 * it comes back to healthy; the first verdict (unknown → healthy) and losing sight (→ unknown) are
 * not news.
 */
export function healthAlert(
  hostName: string,
  providerId: string,
  r: {
    previous_health: HealthState;
    health: HealthState;
    health_reason: string;
    mode: string;
    actions: { action: string }[];
  },
  at: string,
): Alert | null {
  const { previous_health: from, health: to } = r;
  if (from === to || to === "unknown" || (from === "unknown" && to === "healthy")) return null;
  const count = (kind: string) => r.actions.filter((a) => a.action === kind).length;
  const acts = [
    count("pause")
      ? `${count("pause")} ${r.mode === "enforce" ? "paused" : "would be paused (observe mode)"}`
      : "",
    count("floor_held") ? `${count("floor_held")} kept by the floor` : "",
    count("resume") ? `${count("resume")} resumed` : "",
  ].filter((x) => x !== "");
  return {
    topic: "health",
    hostName,
    providerId,
    from,
    to,
    resolved: to === "healthy",
    summary: `${r.health_reason}${acts.length ? `; this run: ${acts.join(", ")}` : ""}.`,
    at,
  };
}

/** The alert for a provider status change seen by a reconcile (active → drifted, … and back), or null. */
export function syncAlert(
  r: {
    host_name: string;
    provider_id: string;
    previous_status: string | null;
    new_status: string | null;
    reason: string;
  },
  at: string,
): Alert | null {
  const from = r.previous_status;
  const to = r.new_status;
  if (!from || !to || from === to) return null;
  const problem = PROBLEM_STATUSES.has(to);
  const resolved = !problem && PROBLEM_STATUSES.has(from);
  if (!problem && !resolved) return null;
  return {
    topic: "sync",
    hostName: r.host_name,
    providerId: r.provider_id,
    from,
    to,
    resolved,
    summary: r.reason,
    at,
  };
}
