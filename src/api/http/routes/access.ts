import { Hono } from "hono";
import { lastAccessStatus, runAccessProbe } from "../../../access/status.js";
import { assignSubscriptions, previewAccess } from "../../../access/subscriptions.js";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import { AccessRequest } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, jsonBody, toTargets, validator } from "../validate.js";

const validateAccess = validator<AccessRequest>(AccessRequest);

/** Mounted under /api/providers: the access closure of one provider on one host. */
export function accessRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/:provider_id/access/preview", async (c) => {
    const body = await jsonBody(c, validateAccess);
    return c.json(
      (await previewAccess(ctx, {
        hostRef: body.host_id,
        providerId: c.req.param("provider_id"),
        users: toTargets(body.users),
      })) satisfies Body<"AccessPreview">,
    );
  });
  app.post("/:provider_id/access/assign-subscriptions", async (c) => {
    const body = await jsonBody(c, validateAccess);
    const items = await assignSubscriptions(ctx, {
      hostRef: body.host_id,
      providerId: c.req.param("provider_id"),
      users: toTargets(body.users),
    });
    return c.json({ items } satisfies Body<"AssignmentList">);
  });
  app.get("/:provider_id/access/status", async (c) => {
    const hostRef = c.req.query("host_id");
    if (!hostRef) throw invalidInput("HOST_REQUIRED", "query parameter host_id is required");
    const providerId = c.req.param("provider_id");
    // Without ?probe=true this reads the last recorded proof and never calls the host.
    if (boolQuery(c, "probe"))
      return c.json((await runAccessProbe(ctx, { hostRef, providerId })) satisfies Body<"AccessStatus">);
    return c.json((await lastAccessStatus(ctx, hostRef, providerId)) satisfies Body<"AccessStatus">);
  });
  return app;
}
