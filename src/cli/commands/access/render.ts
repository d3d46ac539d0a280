import type { AccessPreview } from "../../../access/subscriptions.js";
import type { SubscriptionTarget } from "../../../domain/plan.js";
import type { AccessStatusView } from "../../../steps/access-proof.js";
import { keyValues, table } from "../../format.js";

export function renderAccess(s: AccessStatusView): string {
  return keyValues([
    ["provider", s.provider_id],
    ["host", s.host_name],
    ["access", `${s.access_state.toUpperCase()} — ${s.reason}`],
    ["provider status", s.provider_status],
    [
      "gateway call",
      s.gateway
        ? `HTTP ${s.gateway.status}${s.gateway.error_code ? ` ${s.gateway.error_code}` : ""}, ${s.gateway.latency_ms} ms, model ${s.gateway.model ?? "-"}`
        : "not made",
    ],
    ["completion", s.gateway?.completion ?? null],
    ["checked", s.checked_at],
  ]);
}

export interface TargetFlags {
  subscribe?: SubscriptionTarget[];
  /** Former name of --subscribe. */
  user?: SubscriptionTarget[];
}

export function renderAssignPreview(p: AccessPreview): string {
  return [
    `group: ${p.group ? `${p.group.name} (#${p.group.id}, ${p.group.subscription_type})` : "none — import the provider first"}`,
    table(
      ["USER", "DAYS", "ACTION", "REASON"],
      p.assign.map((a) => [a.user_id, a.validity_days, a.action, a.reason]),
    ),
  ].join("\n");
}

export const targets = (o: TargetFlags) => [...(o.subscribe ?? []), ...(o.user ?? [])];
