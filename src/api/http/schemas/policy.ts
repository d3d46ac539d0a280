import { Type } from "@sinclair/typebox";
import { Bool, Int, Nullable, Str } from "./build.js";
import { StringEnum } from "./requests.js";

/** The health policy's response bodies (issue #28): src/policy/manage.ts PolicyView, ReleaseResult. */
const HealthState = () => StringEnum(["unknown", "healthy", "degraded", "down"]);

export const PolicyView = Type.Object({
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  mode: StringEnum(["enforce", "observe"]),
  fail_after: Int(),
  resume_after: Int(),
  floor: Int(),
  health: HealthState(),
  health_reason: Str(),
  health_changed_at: Nullable(Str()),
  accounts: Type.Array(
    Type.Object({
      account_id: Int(),
      name: Str(),
      fail_streak: Int(),
      pass_streak: Int(),
      resumes: Int(),
      latched: Bool(),
      latch_reason: Nullable(Str()),
      latched_at: Nullable(Str()),
      last_action: Nullable(Str()),
    }),
  ),
  events: Type.Array(
    Type.Object({ at: Str(), kind: Str(), message: Str(), data: Type.Record(Type.String(), Type.Unknown()) }),
  ),
});

const Named = Type.Object({ account_id: Int(), name: Str() });
export const PolicyRelease = Type.Object({
  host_id: Str(),
  host_name: Str(),
  provider_id: Str(),
  resumed: Type.Array(Named),
  already: Type.Array(Named),
  failed: Type.Array(Type.Object({ account_id: Int(), name: Str(), error: Str() })),
});
