import { Type } from "@sinclair/typebox";
import { Int, Nullable, Str } from "./build.js";
import { StringEnum } from "./requests.js";

/** The answers of `POST /api/providers/{id}/migrate` (issue #27 item 3): src/provision/migrate.ts. */
const Target = () => StringEnum(["account", "channel"]);
const Alias = Type.Object({ from: Str(), to: Str() });
const Mapping = () => Type.Record(Type.String(), Type.Unknown());

export const MigrationPlan = Type.Object({
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  pack_version: Str(),
  renames: Type.Array(Alias),
  changes: Type.Array(
    Type.Object({
      target: Target(),
      host_resource_id: Int(),
      name: Str(),
      aliases: Type.Array(Alias),
      mapping_before: Mapping(),
      mapping_after: Mapping(),
    }),
  ),
  unchanged: Type.Array(
    Type.Object({ target: Target(), host_resource_id: Int(), name: Str(), reason: Str() }),
  ),
  fingerprint: Str(),
});

export const MigrationResult = Type.Object({
  batch_id: Nullable(Str()),
  status: StringEnum(["succeeded", "partially_succeeded", "failed", "nothing_to_migrate"]),
  status_reason: Str(),
  plan: MigrationPlan,
  changes: Type.Array(
    Type.Object({
      target: Target(),
      host_resource_id: Int(),
      name: Str(),
      state: Str(),
      error: Nullable(Str()),
    }),
  ),
});
