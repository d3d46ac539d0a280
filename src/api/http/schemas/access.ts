import { Type } from "@sinclair/typebox";
import { AnyObject, Bool, Int, Nullable, Num, Str } from "./build.js";
import { StringEnum } from "./requests.js";

/** Response bodies of the access routes: the preview, an assignment, the last recorded proof. */

const ACCESS_STATES = [
  "not_configured",
  "subscription_ready",
  "self_service_ready",
  "fully_ready",
  "broken",
] as const;
export const AccessState = () => StringEnum([...ACCESS_STATES]);

export const AccessPreview = Type.Object({
  host_id: Str(),
  provider_id: Str(),
  group: Nullable(Type.Object({ id: Int(), name: Str(), subscription_type: Str() })),
  assign: Type.Array(
    Type.Object({
      user_id: Int(),
      validity_days: Int(),
      action: StringEnum(["create", "reuse"]),
      reason: Str(),
    }),
  ),
  already_subscribed: Type.Array(Int()),
  probe: Type.Object({ identity: Str(), chat_completions: Bool(), steps: Type.Array(Str()) }),
});

export const Assignment = Type.Object({
  user_id: Int(),
  validity_days: Int(),
  action: StringEnum(["created", "reused", "conflict", "failed"]),
  reason: Str(),
  subscription_id: Nullable(Int()),
});

export const AccessStatus = Type.Object({
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  access_state: AccessState(),
  reason: Str(),
  evidence: AnyObject(),
  gateway: Nullable(
    Type.Object({
      status: Int(),
      error_code: Nullable(Str()),
      model: Nullable(Str()),
      latency_ms: Num(),
      completion: Nullable(Str()),
    }),
  ),
  provider_status: Str(),
  checked_at: Str(),
});
