import type { KeyClass } from "../domain/pack/schema.js";
import type { PausedBy, RotationSelector } from "../domain/rotation.js";
import type { BatchStatus } from "../domain/status.js";
import type { HostAccount } from "../host/sub2api/index.js";
import type { TriageGroup } from "./triage.js";
import type { PlanInternals } from "./types.js";

export interface RotateRequest {
  hostRef: string;
  providerId: string;
  /** The new keys (one per line); only keys the upstream accepts (`ready`) are used. */
  keys: string | Buffer | string[];
  /**
   * The accounts' current keys, optional: with an account's old key relay puts it back when the
   * new key fails the account test; without it such an account is left on the new key, paused.
   */
  oldKeys?: string | Buffer | string[];
  /** Default `revoked`. */
  accounts?: RotationSelector;
  /** Accounts of one group rotated at a time (default 1). */
  maxParallel?: number;
  maxKeys?: number;
}

export interface RotationPlanAccount {
  account_id: number;
  name: string;
  group_id: number | null;
  why: "revoked" | "balance_empty" | "named";
  host_status: string;
  schedulable: boolean;
  paused_by: PausedBy;
  /** Fingerprints (the first 8 of the keyed hash) and masks only: never a key. */
  old_key: string;
  new_key: string | null;
  new_key_fingerprint: string | null;
  new_key_line: number | null;
  after_success: string;
  on_failure: "old_key_restored" | "left_paused_on_new_key";
}

export interface RotationPlanKey {
  line: number;
  key: string;
  fingerprint: string;
  class: KeyClass;
  reason: string;
  next_step: string;
  /** `account #N`, spare, or why it is not used. */
  use: string;
}

export interface RotationPlan {
  host_id: string;
  host_name: string;
  host_version: string | null;
  provider_id: string;
  pack_version: string;
  accounts_selector: string;
  max_parallel: number;
  smoke_model: string;
  accounts: RotationPlanAccount[];
  new_keys: RotationPlanKey[];
  triage: { counts: Record<KeyClass, number>; groups: TriageGroup[] };
  summary: { chosen: number; ready_keys: number; with_old_key: number; spare_keys: number };
  blocked: boolean;
  blocked_reasons: string[];
  warnings: string[];
  fingerprint: string;
}

/** Everything a rotation needs beyond its printable plan; holds key secrets in memory only. */
export interface RotationInternals extends PlanInternals {
  /** keyed hash → old key, from --old-keys-file. */
  oldKeys: Map<string, string>;
  onHost: Map<number, HostAccount>;
  /** host account id → its managed_resources row id. */
  resourceIds: Map<number, number>;
}

export type RotationOutcome = "rotated" | "restored" | "failed";

export interface RotationResult {
  batch_id: string;
  status: BatchStatus;
  status_reason: string;
  accounts: {
    account_id: number;
    name: string;
    old_key: string;
    new_key: string;
    outcome: RotationOutcome;
    /** Where the account stands: schedulable, left paused (and why). */
    schedulable: boolean | null;
    detail: string;
    error: string | null;
  }[];
  summary: Record<RotationOutcome, number>;
  warnings: string[];
}
