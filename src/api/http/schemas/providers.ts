import { Type } from "@sinclair/typebox";
import { AccessState } from "./access.js";
import { HealthAxis, HealthState, Reachable, SyncAxis, SyncState } from "./axes.js";
import { Bool, Int, Nullable, Num, Opt, Str } from "./build.js";
import { AccountBalances, FindingKind } from "./catalogue.js";
import { StringEnum } from "./requests.js";

/** What `relay provider status/resources/reconcile` and /api/providers/{provider_id}/… answer. */

const Finding = Type.Object({
  kind: FindingKind(),
  resource_type: Str(),
  name: Str(),
  host_resource_id: Nullable(Int()),
  field: Opt(Str()),
  expected: Opt(Type.Unknown()),
  actual: Opt(Type.Unknown()),
  message: Str(),
  healed: Opt(Bool()),
  /** What `reconcile --heal` would do about it; null: nothing (see docs/operations.md). */
  heal_action: Nullable(
    StringEnum(["rebind_account", "reassign_subscription", "recreate_channel", "adopt_restored"]),
  ),
  /** What the operator can do while it stays (a `relay …` command); null once healed. */
  next_step: Nullable(Str()),
});

export const ReconcileResult = Type.Object({
  run_id: Int(),
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  outcome: StringEnum(["ok", "drift", "degraded", "error", "skipped"]),
  previous_status: Nullable(Str()),
  new_status: Nullable(Str()),
  reason: Str(),
  access_state: Nullable(Str()),
  ...{ health: Nullable(HealthState()), sync: Nullable(SyncState()) },
  findings: Type.Array(Finding),
  /** Differences an ignore rule (RELAY_DRIFT_IGNORE) hid; not findings, never hidden silently. */
  ignored: Type.Array(
    Type.Object({
      rule: Str(),
      resource_type: Str(),
      name: Str(),
      host_resource_id: Nullable(Int()),
      field: Str(),
      expected: Type.Unknown(),
      actual: Type.Unknown(),
    }),
  ),
  healed: Type.Array(Str()),
  retest: Type.Object({ policy: Str(), tested: Int() }),
  host_calls: Int(),
  duration_ms: Num(),
});

export const ProviderStatus = Type.Object({
  provider_id: Str(),
  hosts: Type.Array(
    Type.Object({
      host_id: Str(),
      host_name: Str(),
      status: Str(),
      reason: Str(),
      status_changed_at: Str(),
      access_state: AccessState(),
      ...{ sync: SyncAxis, health: HealthAxis, host_reachable: Reachable() },
      generation: Int(),
      last_reconcile: Nullable(
        Type.Object({
          run_id: Int(),
          trigger: Str(),
          outcome: Str(),
          started_at: Str(),
          duration_ms: Nullable(Num()),
          host_calls: Int(),
          findings: Type.Array(Finding),
        }),
      ),
      balances: Type.Optional(AccountBalances),
    }),
  ),
});

export const Resource = Type.Object({
  host_id: Str(),
  type: Str(),
  name: Str(),
  host_resource_id: Nullable(Int()),
  state: Str(),
  origin: Str(),
  batch_id: Nullable(Str()),
  generation: Str(),
  updated_at: Str(),
});
