/**
 * The parts of relay's API answers the board reads (see docs/api/openapi.yaml for the whole). The
 * two axes and a host's reachability are the domain's own types, imported type-only (erased from
 * the bundle; src/domain/axes.ts has no runtime imports the board would pull in).
 */
import type { HealthAxis, HostReachability, SyncAxis } from "../../src/domain/axes";

export type { HealthAxis, SyncAxis };
export interface Reason {
  code: string;
  message: string;
  hint?: string;
}

export interface Host {
  host_id: string;
  name: string;
  base_url: string;
  version: string | null;
  status: string;
  profile: string | null;
  status_reasons: Reason[];
  warnings: Reason[];
  capabilities: Record<string, unknown>;
  blockers: string[];
  providers: { provider_id: string; status: string; mode: string | null; reason: string | null }[];
  last_probed_at: string | null;
  reachable: HostReachability["reachable"];
  last_probe_ok_at: string | null;
  last_error: HostReachability["last_error"];
}

export interface ProviderListItem {
  provider_id: string;
  display_name: string;
  hosts: {
    host_name: string;
    status: string;
    access_state: string;
    sync: SyncAxis["state"];
    health: HealthAxis["state"];
    host_reachable: HostReachability["reachable"];
  }[];
}

export interface Finding {
  kind: string;
  resource_type: string;
  name: string;
  host_resource_id: number | null;
  message: string;
  field?: string;
  healed?: boolean;
  heal_action: string | null;
  next_step: string | null;
}

export interface ProviderHostStatus {
  host_id: string;
  host_name: string;
  status: string;
  reason: string;
  status_changed_at: string;
  access_state: string;
  sync: SyncAxis;
  health: HealthAxis;
  host_reachable: HostReachability["reachable"];
  last_reconcile: {
    run_id: number;
    trigger: string;
    outcome: string;
    started_at: string;
    host_calls: number;
    findings: Finding[];
  } | null;
}

export interface ProviderStatus {
  provider_id: string;
  hosts: ProviderHostStatus[];
}

export interface AccessStatus {
  access_state: string;
  reason: string;
  gateway: { status: number; model: string | null; latency_ms: number; error_code: string | null } | null;
  checked_at: string;
}

export interface BatchSummary {
  batch_id: string;
  host_id: string;
  provider_id: string;
  kind: "import" | "rotation" | "model_migration";
  mode: string;
  status: string;
  status_reason: string;
  keys: number;
  /** A model migration: the accounts and channels it changes; null for other kinds. */
  changes: number | null;
  created_at: string;
}

export interface Batch {
  batch_id: string;
  host_id: string;
  provider_id: string;
  pack_version: string;
  kind: "import" | "rotation" | "model_migration";
  mode: string;
  status: string;
  status_reason: string;
  created_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  summary: Record<string, unknown>;
  keys: {
    position: number;
    key: string;
    status: string;
    error_code: string | null;
    error: string | null;
    result: {
      account_id?: number;
      /** What the provider's answer made the key (docs/import.md, key triage). */
      triage?: { class: string; reason: string; next_step: string };
    };
  }[];
  resources: { type: string; name: string; host_resource_id: number | null; state: string; origin: string }[];
  probes: {
    kind: string;
    success: boolean;
    model: string | null;
    error_code: string | null;
    latency_ms: number | null;
    at: string;
  }[];
  events: { at: string; kind: string; message: string }[];
}

/** GET /api/providers/{id}/policy?host_id= (the health policy; docs/operations.md "Health policy"). */
export interface PolicyView {
  mode: "enforce" | "observe";
  health: string;
  health_reason: string;
  health_changed_at: string | null;
  accounts: { account_id: number; name: string; latched: boolean; last_action: string | null }[];
  events: { at: string; kind: string; message: string }[];
}
