import { Type } from "@sinclair/typebox";
import { HealthState, Reachable, SyncState } from "./axes.js";
import { AnyObject } from "./build.js";
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

const NullableInt = () => Type.Union([Int(), Type.Null()]);

/** `DELETE /api/hosts/{id}/probe-user`: relay's probe user, what goes with it, and what happens next. */
export const ProbeUserRemoval = Type.Object({
  host_id: Str(),
  host_name: Str(),
  dry_run: Type.Boolean(),
  outcome: StringEnum(["would_remove", "removed", "nothing_to_remove"]),
  probe_user: Type.Union([
    Type.Object({ email: Str(), user_id: NullableInt(), on_host: Type.Boolean() }),
    Type.Null(),
  ]),
  subscriptions: Type.Array(
    Type.Object({ provider_id: Str(), subscription_id: NullableInt(), group_id: NullableInt() }),
  ),
  api_keys: Type.Array(Type.Object({ provider_id: Str(), key_id: NullableInt(), name: Str() })),
  providers: Type.Array(Str()),
  next_email: Str(),
  note: Str(),
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
        /** A channel whose pricing the migration changed: the pricing put back. */
        model_pricing: Type.Optional(Type.Array(AnyObject())),
      }),
    ),
  ),
});
