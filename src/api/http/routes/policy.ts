import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import { configurePolicy, policyStatus, releaseProvider } from "../../../policy/manage.js";
import { PolicyRequest, ReleaseRequest } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { jsonBody, validator } from "../validate.js";

const validatePolicy = validator<PolicyRequest>(PolicyRequest);
const validateRelease = validator<ReleaseRequest>(ReleaseRequest);

/** Mounted under /api/providers: the health policy of one provider on a host. */
export function policyRoutes(ctx: AppContext) {
  const app = new Hono();
  app.get("/:provider_id/policy", async (c) => {
    const hostId = c.req.query("host_id");
    if (!hostId) throw invalidInput("HOST_REQUIRED", "host_id is required");
    return c.json(
      (await policyStatus(ctx, {
        hostRef: hostId,
        providerId: c.req.param("provider_id"),
      })) satisfies Body<"PolicyView">,
    );
  });
  app.put("/:provider_id/policy", async (c) => {
    const b = await jsonBody(c, validatePolicy);
    return c.json(
      (await configurePolicy(ctx, {
        hostRef: b.host_id,
        providerId: c.req.param("provider_id"),
        ...(b.enforce !== undefined ? { enforce: b.enforce } : {}),
        ...(b.fail_after !== undefined ? { failAfter: b.fail_after } : {}),
        ...(b.resume_after !== undefined ? { resumeAfter: b.resume_after } : {}),
      })) satisfies Body<"PolicyView">,
    );
  });
  app.post("/:provider_id/policy/release", async (c) => {
    const b = await jsonBody(c, validateRelease);
    return c.json(
      (await releaseProvider(ctx, {
        hostRef: b.host_id,
        providerId: c.req.param("provider_id"),
      })) satisfies Body<"PolicyRelease">,
    );
  });
  return app;
}
