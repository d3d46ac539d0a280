import { type Static, Type } from "@sinclair/typebox";
import { AccessPreview, AccessState, AccessStatus, Assignment } from "./access.js";
import { HostReachabilityFields } from "./axes.js";
import { AnyObject, Bool, Int, List, Nullable, Opt, Ref, Str } from "./build.js";
import { ImportTriage, KeyClass, PlanKeyTriage } from "./catalogue.js";
import { MigrationPlan, MigrationResult } from "./migration.js";
import {
  HostRemoval,
  ImportAccepted,
  PackRemoval,
  ProbeUserRemoval,
  ProviderListItem,
  RollbackPreview,
} from "./operations.js";
import { PolicyRelease, PolicyView } from "./policy.js";
import { ProviderStatus, ReconcileResult, Resource } from "./providers.js";
import { StringEnum } from "./requests.js";
import { RotationAnswer, RotationPlan, RotationResult } from "./rotation.js";

/**
 * Response bodies, each declared once: the OpenAPI document embeds them, the handlers are checked
 * against their `Static` types at compile time, and a test validates real responses with them.
 */

const BATCH_STATUSES = [
  "pending",
  "previewed",
  "running",
  "succeeded",
  "partially_succeeded",
  "failed",
  "rollback_running",
  "rolled_back",
] as const;
const BatchStatus = () => StringEnum([...BATCH_STATUSES]);
const Action = () => StringEnum(["create", "reuse", "conflict", "skip"]);

const Reason = Type.Object({ code: Str(), message: Str(), hint: Opt(Str()) });
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Str(),
    message: Str(),
    details: Opt(Type.Unknown()),
    hint: Opt(Str()),
    request_id: Str(),
  }),
});

export const Host = Type.Object({
  host_id: Str(),
  name: Str(),
  base_url: Str(),
  version: Nullable(Str()),
  status: StringEnum(["supported", "unsupported"]),
  profile: Nullable(Str()),
  status_reasons: Type.Array(Reason),
  warnings: Type.Array(Reason),
  capabilities: AnyObject(),
  blockers: Type.Array(Str()),
  providers: Type.Array(
    Type.Object({
      provider_id: Str(),
      status: StringEnum(["supported", "unsupported"]),
      mode: Nullable(StringEnum(["native", "fallback"])),
      platform: Nullable(Str()),
      reason_code: Nullable(Str()),
      reason: Nullable(Str()),
      first_working_version: Nullable(Str()),
    }),
  ),
  probe_identity: StringEnum(["auto", "user", "none"]),
  probe_user: Nullable(Type.Object({ email: Str(), user_id: Nullable(Int()), created_by_relay: Bool() })),
  admin_key_hint: Str({ maxLength: 16 }),
  install_id: Str({ pattern: "^[0-9a-f]{8}$" }),
  created_at: Str(),
  updated_at: Str(),
  last_probed_at: Nullable(Str()),
  ...HostReachabilityFields,
});

export const Pack = Type.Object({
  pack_id: Str(),
  name: Str(),
  version: Str(),
  description: Str(),
  host: Type.Object({ app: Str(), version_range: Str() }),
  providers: Type.Array(Str()),
  content_hash: Str(),
  source: Str(),
  installed_at: Str(),
  history: Type.Array(Type.Object({ version: Str(), installed_at: Str(), current: Bool() })),
});

export const PackIssue = Type.Object({
  severity: StringEnum(["error", "warning"]),
  code: Str(),
  file: Nullable(Str()),
  pointer: Nullable(Str()),
  message: Str(),
});

export const PackInstallResult = Type.Object({
  outcome: StringEnum(["installed", "upgraded", "unchanged", "downgraded"]),
  previous_version: Nullable(Str()),
  pack: Ref("Pack", Pack),
  warnings: Type.Array(Ref("PackIssue", PackIssue)),
});

export const ImportPlan = Type.Object({
  host_id: Str(),
  host_name: Str(),
  host_version: Nullable(Str()),
  provider_id: Str(),
  pack_version: Str(),
  mode: StringEnum(["strict", "partial"]),
  access_mode: Nullable(StringEnum(["subscription", "self-service"])),
  generation: Int(),
  mapping: Type.Object({
    platform: Str(),
    via_fallback: Bool(),
    base_url: Str(),
    model_mapping: AnyObject(),
    extra: AnyObject(),
  }),
  resources: Type.Array(
    Type.Object({
      type: Str(),
      name: Str(),
      action: Action(),
      reason: Str(),
      host_resource_id: Nullable(Int()),
    }),
  ),
  keys: Type.Array(
    Type.Object({
      position: Int(),
      line: Int(),
      key: Str({ maxLength: 16 }),
      action: Action(),
      reason: Str(),
      account_name: Str(),
      host_resource_id: Nullable(Int()),
    }),
  ),
  subscriptions: Type.Array(
    Type.Object({ user_id: Int(), validity_days: Int(), action: Str(), reason: Str() }),
  ),
  summary: AnyObject(),
  blocked: Bool(),
  no_usable_key: Bool(),
  blocked_reasons: Type.Array(Str()),
  warnings: Type.Array(Str()),
  fingerprint: Str({ pattern: "^[0-9a-f]{64}$" }),
  /** With `precheck`: each new key's class from its provider's answer (not bound by the fingerprint). */
  key_triage: Type.Optional(PlanKeyTriage),
});

export const ImportResult = Type.Object({
  batch_id: Str(),
  status: BatchStatus(),
  status_reason: Str(),
  provider_status: Str(),
  access_closure_status: Type.Union([AccessState(), Type.Literal("not_verified")]),
  created: Type.Object({
    group_id: Nullable(Int()),
    channel_id: Nullable(Int()),
    plan_id: Nullable(Int()),
    account_ids: Type.Array(Int()),
  }),
  keys: Type.Array(
    Type.Object({
      line: Nullable(Int()),
      key: Str({ maxLength: 16 }),
      status: Str(),
      account_id: Nullable(Int()),
      error_code: Nullable(Str()),
      error: Nullable(Str()),
      class: Nullable(KeyClass()),
      next_step: Nullable(Str()),
      suggested_provider: Nullable(Str()),
    }),
  ),
  triage: ImportTriage,
  summary: Type.Object({ working: Int(), failed: Int(), reused: Int(), skipped: Int() }),
  subscriptions: Type.Array(
    Type.Object({
      user_id: Int(),
      status: StringEnum(["assigned", "already_subscribed", "skipped", "failed"]),
      reason: Str(),
    }),
  ),
  warnings: Type.Array(Str()),
});

export const BatchSummary = Type.Object({
  batch_id: Str(),
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  kind: StringEnum(["import", "rotation", "model_migration"]),
  mode: Str(),
  status: BatchStatus(),
  status_reason: Str(),
  keys: Int(),
  /** A model migration: the accounts and channels whose mapping it changes; null for other kinds. */
  changes: Nullable(Int()),
  created_at: Str(),
  finished_at: Nullable(Str()),
});

export const Batch = Type.Object({
  batch_id: Str(),
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  pack_version: Str(),
  kind: StringEnum(["import", "rotation", "model_migration"]),
  mode: Str(),
  access_mode: Nullable(Str()),
  status: BatchStatus(),
  status_reason: Str(),
  created_at: Str(),
  started_at: Nullable(Str()),
  finished_at: Nullable(Str()),
  duration_ms: Nullable(Int()),
  summary: AnyObject(),
  keys: Type.Array(
    Type.Object({
      position: Int(),
      key: Str({ maxLength: 16 }),
      status: Str(),
      error_code: Nullable(Str()),
      error: Nullable(Str()),
      result: AnyObject(),
    }),
  ),
  resources: Type.Array(
    Type.Object({ type: Str(), name: Str(), host_resource_id: Nullable(Int()), state: Str(), origin: Str() }),
  ),
  /** A model migration's mapping changes, one per account or channel (empty for other kinds). */
  changes: Type.Array(
    Type.Object({
      target: StringEnum(["account", "channel"]),
      host_resource_id: Int(),
      name: Str(),
      aliases: Type.Array(Type.Object({ from: Str(), to: Str() })),
      state: Str(),
      error: Nullable(Str()),
    }),
  ),
  probes: Type.Array(
    Type.Object({
      kind: Str(),
      success: Bool(),
      model: Nullable(Str()),
      error_code: Nullable(Str()),
      message: Nullable(Str()),
      latency_ms: Nullable(Int()),
      at: Str(),
    }),
  ),
  events: Type.Array(Type.Object({ at: Str(), kind: Str(), message: Str() })),
});

export const responseSchemas = {
  Error: ErrorBody,
  Host,
  HostList: List("Host", Host),
  Pack,
  PackList: List("Pack", Pack),
  PackIssue,
  PackInstallResult,
  ImportPlan,
  ImportResult,
  BatchSummaryList: Type.Object({ items: Type.Array(BatchSummary), next_cursor: Nullable(Str()) }),
  Batch,
  AccessPreview,
  AssignmentList: Type.Object({ items: Type.Array(Assignment) }),
  AccessStatus,
  ReconcileResult,
  ProviderStatus,
  ResourceList: Type.Object({ items: Type.Array(Resource), next_cursor: Nullable(Str()) }),
  HostRemoval,
  ProbeUserRemoval,
  PackRemoval,
  ImportAccepted,
  RollbackPreview,
  RollbackAnswer: Type.Union([Ref("Batch", Batch), Ref("RollbackPreview", RollbackPreview)], {
    description: "the batch after the rollback, or with dry_run what a rollback would delete",
  }),
  ProviderList: Type.Object({ items: Type.Array(ProviderListItem), next_cursor: Nullable(Str()) }),
  PolicyView,
  PolicyRelease,
  RotationPlan,
  RotationResult,
  RotationAnswer,
  MigrationPlan,
  MigrationResult,
  MigrationAnswer: Type.Union(
    [Ref("MigrationResult", MigrationResult), Ref("MigrationPlan", MigrationPlan)],
    {
      description: "the migration's result, or with dry_run its plan",
    },
  ),
};

/** The body a handler answers with, typed from the documented schema. */
export type Body<K extends keyof typeof responseSchemas> = Static<(typeof responseSchemas)[K]>;
