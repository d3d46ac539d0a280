import { Hono } from "hono";
import { lastAccessStatus, runAccessProbe } from "../../../access/status.js";
import { assignSubscriptions, previewAccess } from "../../../access/subscriptions.js";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import { ajv, jsonBody, userTargetsSchema } from "../validate.js";

export interface AccessBody {
  host_id: string;
  users?: { user_id: number | string; duration_days?: number }[];
}

export const accessBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["host_id"],
  properties: {
    host_id: { type: "string", minLength: 1, maxLength: 200 },
    users: userTargetsSchema,
  },
} as const;
const validateAccess = ajv.compile<AccessBody>(accessBodySchema);

const targets = (body: AccessBody) =>
  (body.users ?? []).map((u) => ({
    userId: Number(u.user_id),
    ...(u.duration_days ? { days: u.duration_days } : {}),
  }));

/** Mounted under /api/providers: the access closure of one provider on one host. */
export function accessRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/:provider_id/access/preview", async (c) => {
    const body = await jsonBody(c, validateAccess);
    return c.json(
      await previewAccess(ctx, {
        hostRef: body.host_id,
        providerId: c.req.param("provider_id"),
        users: targets(body),
      }),
    );
  });
  app.post("/:provider_id/access/assign-subscriptions", async (c) => {
    const body = await jsonBody(c, validateAccess);
    const items = await assignSubscriptions(ctx, {
      hostRef: body.host_id,
      providerId: c.req.param("provider_id"),
      users: targets(body),
    });
    return c.json({ items });
  });
  app.get("/:provider_id/access/status", async (c) => {
    const hostRef = c.req.query("host_id");
    if (!hostRef) throw invalidInput("HOST_REQUIRED", "query parameter host_id is required");
    const providerId = c.req.param("provider_id");
    // Without ?probe=true this reads the last recorded proof and never calls the host.
    if (c.req.query("probe") === "true") return c.json(await runAccessProbe(ctx, { hostRef, providerId }));
    return c.json(lastAccessStatus(ctx, hostRef, providerId));
  });
  return app;
}
