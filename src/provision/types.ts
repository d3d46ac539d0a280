import type { AccessState } from "../domain/access.js";
import type { TriageGroup } from "../domain/key-triage.js";
import type { HostMapping } from "../domain/mapping.js";
import type { KeyClass, ProviderDefinition } from "../domain/pack/schema.js";
import type {
  Observed,
  PlannedKey,
  PlannedResource,
  PlannedSubscription,
  PlanSummary,
  SubscriptionTarget,
} from "../domain/plan.js";
import type { BatchStatus } from "../domain/status.js";
import type { HostAdapter, HostCapabilities } from "../host/sub2api/index.js";
import type { ResourceRow } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import type { IntakeKey } from "./keys.js";

export interface ImportRequest {
  hostRef: string;
  providerId: string;
  keys: string | Buffer | string[];
  mode: "strict" | "partial";
  accessMode?: "subscription" | "self-service";
  subscribe?: SubscriptionTarget[];
  withPlan?: boolean;
  maxKeys?: number;
  /**
   * Check each new key with its upstream (`sync-upstream-preview`) before any host write; a refused
   * key is never created. Default: on for partial imports where the host has the route.
   */
  precheck?: boolean;
}

export interface ImportPlan {
  host_id: string;
  host_name: string;
  host_version: string | null;
  provider_id: string;
  pack_version: string;
  mode: "strict" | "partial";
  access_mode: "subscription" | "self-service" | null;
  generation: number;
  mapping: {
    platform: string;
    via_fallback: boolean;
    base_url: string;
    model_mapping: Record<string, string>;
    extra: Record<string, unknown>;
  };
  resources: PlannedResource[];
  keys: PlannedKey[];
  subscriptions: PlannedSubscription[];
  summary: PlanSummary;
  blocked: boolean;
  /** Blocked because no key can be imported (all malformed or conflicting): fix the key list. */
  no_usable_key: boolean;
  blocked_reasons: string[];
  warnings: string[];
  fingerprint: string;
  /**
   * With `precheck`: each new key's class from its upstream's answer to the host's model preview.
   * Not bound by the fingerprint (a rate limit may be gone by the import).
   */
  key_triage?: PlannedKeyTriage[];
}

export interface PlannedKeyTriage {
  position: number;
  line: number;
  key: string;
  class: KeyClass;
  reason: string;
  next_step: string;
  suggested_provider: string | null;
}

/** Everything execute needs beyond the printable plan; holds the key secrets in memory only. */
export interface PlanInternals {
  host: HostRow;
  caps: HostCapabilities;
  def: ProviderDefinition;
  mapping: HostMapping;
  adapter: HostAdapter;
  keys: IntakeKey[];
  observed: Observed;
  records: Map<string, ResourceRow>;
}

export interface ProgressEvent {
  phase:
    | "plan"
    | "precheck"
    | "group"
    | "channel"
    | "plan_resource"
    | "accounts"
    | "test"
    | "subscriptions"
    | "rollback"
    | "done";
  message: string;
  done?: number;
  total?: number;
}

export interface ImportOptions {
  /** Account tests in flight at once (default: RELAY_HOST_CONCURRENCY, 16; the host's adaptive limit caps it). */
  testConcurrency?: number;
  /** Accounts per batch-create call (default 50). */
  chunkSize?: number;
  /** Refuse to run when the host changed since the preview that produced this fingerprint. */
  expectedFingerprint?: string;
  /**
   * The plan as the caller reviewed it (a plan file): with the same fingerprint, its body must be
   * the one the fingerprint binds, or the import is refused (the file was edited).
   */
  reviewedPlan?: unknown;
  onProgress?: (event: ProgressEvent) => void;
  /** Called once the batch is recorded (before any host write): the id a caller can poll. */
  onBatchOpened?: (batchId: string) => void;
}

export interface ImportResult {
  batch_id: string;
  status: BatchStatus;
  status_reason: string;
  provider_status: string;
  access_closure_status: AccessState | "not_verified";
  created: {
    group_id: number | null;
    channel_id: number | null;
    plan_id: number | null;
    account_ids: number[];
  };
  keys: {
    /** The key's line in the key file (the key itself is never shown; `key` is its mask). */
    line: number | null;
    key: string;
    status: string;
    account_id: number | null;
    error_code: string | null;
    error: string | null;
    /** What the provider's answer says the key is (null: the key never reached the provider). */
    class: KeyClass | null;
    /** What to do about it ("fund …", "replace …", "use provider …"); null for ready keys. */
    next_step: string | null;
    suggested_provider: string | null;
  }[];
  /** Keys per class, and the ones that need something done grouped with what to do. */
  triage: { counts: Record<KeyClass, number>; groups: TriageGroup[] };
  summary: { working: number; failed: number; reused: number; skipped: number };
  /** One line per subscription target: assigned, already subscribed, skipped, or failed with why. */
  subscriptions: SubscriptionOutcome[];
  warnings: string[];
}

export interface SubscriptionOutcome {
  user_id: number;
  status: "assigned" | "already_subscribed" | "skipped" | "failed";
  reason: string;
}
