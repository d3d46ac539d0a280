import { Type } from "@sinclair/typebox";
import type { BatchStatus } from "../../../domain/status.js";
import { Bool, Int, Nullable, Ref, Str } from "./build.js";
import { ImportTriage, KeyClass } from "./catalogue.js";
import { StringEnum } from "./requests.js";

/** Key rotation in place (issue #28 item 2): src/provision/rotate-types.ts. Masks and fingerprints only. */
const BATCH_STATUSES: BatchStatus[] = [
  "pending",
  "previewed",
  "running",
  "succeeded",
  "partially_succeeded",
  "failed",
  "rollback_running",
  "rolled_back",
];

export const RotationPlan = Type.Object({
  host_id: Str(),
  host_name: Str(),
  host_version: Nullable(Str()),
  provider_id: Str(),
  pack_version: Str(),
  accounts_selector: Str(),
  max_parallel: Int(),
  smoke_model: Str(),
  accounts: Type.Array(
    Type.Object({
      account_id: Int(),
      name: Str(),
      group_id: Nullable(Int()),
      why: StringEnum(["revoked", "balance_empty", "named"]),
      host_status: Str(),
      schedulable: Bool(),
      paused_by: Nullable(StringEnum(["relay", "host", "person"])),
      old_key: Str({ maxLength: 16 }),
      new_key: Nullable(Str({ maxLength: 16 })),
      new_key_fingerprint: Nullable(Str({ maxLength: 16 })),
      new_key_line: Nullable(Int()),
      after_success: Str(),
      on_failure: StringEnum(["old_key_restored", "left_paused_on_new_key"]),
    }),
  ),
  new_keys: Type.Array(
    Type.Object({
      line: Int(),
      key: Str({ maxLength: 16 }),
      fingerprint: Str({ maxLength: 16 }),
      class: KeyClass(),
      reason: Str(),
      next_step: Str(),
      use: Str(),
    }),
  ),
  triage: ImportTriage,
  summary: Type.Object({ chosen: Int(), ready_keys: Int(), with_old_key: Int(), spare_keys: Int() }),
  blocked: Bool(),
  blocked_reasons: Type.Array(Str()),
  warnings: Type.Array(Str()),
  fingerprint: Str(),
});

const Outcome = () => StringEnum(["rotated", "restored", "failed"]);

export const RotationResult = Type.Object({
  batch_id: Str(),
  status: StringEnum(BATCH_STATUSES),
  status_reason: Str(),
  accounts: Type.Array(
    Type.Object({
      account_id: Int(),
      name: Str(),
      old_key: Str({ maxLength: 16 }),
      new_key: Str({ maxLength: 16 }),
      outcome: Outcome(),
      schedulable: Nullable(Bool()),
      detail: Str(),
      error: Nullable(Str()),
    }),
  ),
  summary: Type.Object({ rotated: Int(), restored: Int(), failed: Int() }),
  warnings: Type.Array(Str()),
});

export const RotationAnswer = Type.Union(
  [Ref("RotationResult", RotationResult), Ref("RotationPlan", RotationPlan)],
  { description: "the rotation's result, or with dry_run its plan (nothing written)" },
);
