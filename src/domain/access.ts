/**
 * Access closure states (design §6), derived from evidence only: never from resources existing.
 */
export type AccessState =
  | "not_configured"
  | "subscription_ready"
  | "self_service_ready"
  | "fully_ready"
  | "broken";

export type Proof = "ok" | "failed" | "not_applicable";

export interface AccessEvidence {
  /** Why no proof could be attempted (no probe identity, login blocked, no chat completions, …). */
  unverifiable?: string;
  /** A user holding a subscription assigned by relay called the gateway through the group. */
  subscription: Proof;
  /** A user bound a key to the group by themselves (no admin action) and called through it. */
  selfService: Proof;
  /** Host error code of the failed call, when one failed. */
  errorCode?: string;
}

export function deriveAccessState(e: AccessEvidence): { state: AccessState; reason: string } {
  if (e.unverifiable) return { state: "not_configured", reason: `not verifiable: ${e.unverifiable}` };
  if (e.subscription === "failed" || e.selfService === "failed") {
    return { state: "broken", reason: `the gateway proof failed${e.errorCode ? ` (${e.errorCode})` : ""}` };
  }
  if (e.subscription === "ok" && e.selfService === "ok")
    return { state: "fully_ready", reason: "subscribed and self-service users can both call" };
  if (e.subscription === "ok")
    return { state: "subscription_ready", reason: "a subscribed user's key called the gateway successfully" };
  if (e.selfService === "ok")
    return {
      state: "self_service_ready",
      reason: "a user bound their own key to the group and called successfully",
    };
  return { state: "not_configured", reason: "no access proof attempted yet" };
}

export const PROVEN_STATES: AccessState[] = ["subscription_ready", "self_service_ready", "fully_ready"];

/** What a gateway call through the host answered, as recorded (never the key). */
export interface GatewayEvidence {
  status: number;
  error_code: string | null;
  model: string | null;
  latency_ms: number;
  completion: string | null;
}

/** An access proof's evidence as stored: what was tried, against which group, and the gateway's answer. */
export type ProofEvidence = AccessEvidence & {
  group_id?: number;
  subscription_type?: string;
  probe_user?: string;
  /** This proof created the probe user on the host (its first on that host, or after a removal). */
  probe_user_created?: boolean;
};
export type StoredEvidence = ProofEvidence & { gateway?: GatewayEvidence | null };
