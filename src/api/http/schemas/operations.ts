import { Type } from "@sinclair/typebox";
import { HealthState, Reachable, SyncState } from "./axes.js";
import { StringEnum } from "./requests.js";

/**
 * Bodies of the operator verbs (remove a host or a pack, list providers, a rollback's dry run) and
 * of an accepted import.
 */
const Str = () => Type.String();
const Int = () => Type.Integer();

export const ImportAccepted = Type.Object({
  batch_id: Str(),
  status: StringEnum(["running"]),
  location: Str(),
});

export const HostRemoval = Type.Object({
  host_id: Str(),
  name: Str(),
  live_resources_forgotten: Int(),
});

export const PackRemoval = Type.Object({ pack_id: Str(), removed_versions: Int() });

export const ProviderListItem = Type.Object({
  provider_id: Str(),
  display_name: Str(),
  pack_id: Str(),
  hosts: Type.Array(
    Type.Object({
      host_name: Str(),
      status: Str(),
      access_state: Str(),
      sync: SyncState(),
      health: HealthState(),
      host_reachable: Reachable(),
    }),
  ),
});

export const RollbackPreview = Type.Object({
  batch_id: Str(),
  would_delete: Type.Array(
    Type.Object({ type: Str(), name: Str(), host_resource_id: Type.Union([Int(), Type.Null()]) }),
  ),
  /** A model migration's batch: the mapping each account and channel gets back. */
  would_restore: Type.Optional(
    Type.Array(
      Type.Object({
        type: Str(),
        name: Str(),
        host_resource_id: Int(),
        model_mapping: Type.Record(Type.String(), Type.Unknown()),
      }),
    ),
  ),
});
