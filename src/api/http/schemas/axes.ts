import { Type } from "@sinclair/typebox";
import { Int, Nullable, Str } from "./build.js";
import { StringEnum } from "./requests.js";

/** The two axes of a provider on a host and a host's reachability (src/domain/axes.ts). */
export const SyncState = () => StringEnum(["in_sync", "out_of_sync", "unknown"]);
export const HealthState = () => StringEnum(["healthy", "degraded", "down", "unknown"]);
export const Reachable = () => StringEnum(["yes", "no", "unknown"]);

export const SyncAxis = Type.Object({
  state: SyncState(),
  code: StringEnum([
    "matches",
    "drift",
    "incompatible",
    "rollback_incomplete",
    "never_reconciled",
    "not_reconciled_since_change",
  ]),
  reason: Str(),
});

export const HealthAxis = Type.Object({
  state: HealthState(),
  code: StringEnum([
    "serving",
    "some_accounts_unusable",
    "all_accounts_unusable",
    "no_accounts",
    "access_broken",
    "nothing_installed",
    "host_unreachable",
  ]),
  reason: Str(),
  accounts: Type.Object({ total: Int(), unusable: Int() }),
});

/** Fields of a host: whether it answered its newest probe, when it last did, the newest failure. */
export const HostReachabilityFields = {
  reachable: Reachable(),
  last_probe_ok_at: Nullable(Str()),
  last_error: Nullable(Type.Object({ at: Str(), code: Str(), message: Str() })),
};
