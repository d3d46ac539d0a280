import { lastAccessStatus, runAccessProbe } from "../../../access/status.js";
import { assignSubscriptions, previewAccess } from "../../../access/subscriptions.js";
import { invalidInput } from "../../../domain/errors.js";
import { defineRoute } from "../route.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, toTargets } from "../validate.js";

/** The access closure of one provider on one host (`relay access …`). */
export const accessRoutes = [
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/access/preview",
    summary: "Who would be subscribed, who has access, what the probe will do",
    operationId: "previewAccess",
    body: "AccessRequest",
    responses: { 200: "AccessPreview" },
    handler: async (c, { params, body }, { ctx }) =>
      c.json(
        (await previewAccess(ctx, {
          hostRef: body.host_id,
          providerId: params.provider_id,
          users: toTargets(body.users),
        })) satisfies Body<"AccessPreview">,
      ),
  }),
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/access/assign-subscriptions",
    summary: "Assign subscriptions (idempotent)",
    operationId: "assignSubscriptions",
    body: "AccessRequest",
    responses: { 200: "AssignmentList" },
    handler: async (c, { params, body }, { ctx }) => {
      const items = await assignSubscriptions(ctx, {
        hostRef: body.host_id,
        providerId: params.provider_id,
        users: toTargets(body.users),
      });
      return c.json({ items } satisfies Body<"AssignmentList">);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/providers/{provider_id}/access/status",
    summary: "Access state: last proof, or a new one with probe=true",
    operationId: "accessStatus",
    query: { host_id: { description: "host id or name", required: true }, probe: "`true` proves access now" },
    responses: { 200: "AccessStatus" },
    handler: async (c, { params, query }, { ctx }) => {
      const hostRef = query.host_id;
      if (!hostRef) throw invalidInput("HOST_REQUIRED", "query parameter host_id is required");
      const providerId = params.provider_id;
      // Without ?probe=true this reads the last recorded proof and never calls the host.
      if (boolQuery(c, "probe"))
        return c.json((await runAccessProbe(ctx, { hostRef, providerId })) satisfies Body<"AccessStatus">);
      return c.json((await lastAccessStatus(ctx, hostRef, providerId)) satisfies Body<"AccessStatus">);
    },
  }),
];
