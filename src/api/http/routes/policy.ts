import { invalidInput } from "../../../domain/errors.js";
import { configurePolicy, policyStatus, releaseProvider } from "../../../policy/manage.js";
import { defineRoute } from "../route.js";
import type { Body } from "../schemas/responses.js";

/** The health policy of one provider on a host (docs/operations.md "Health policy"; `relay policy …`). */
export const policyRoutes = [
  defineRoute({
    method: "get",
    path: "/api/providers/{provider_id}/policy",
    summary: "Health policy of the provider on a host: mode, health, watched accounts, events",
    operationId: "getPolicy",
    query: { host_id: { description: "the host", required: true } },
    responses: { 200: "PolicyView" },
    handler: async (c, { params, query }, { ctx }) => {
      if (!query.host_id) throw invalidInput("HOST_REQUIRED", "host_id is required");
      return c.json(
        (await policyStatus(ctx, {
          hostRef: query.host_id,
          providerId: params.provider_id,
        })) satisfies Body<"PolicyView">,
      );
    },
  }),
  defineRoute({
    method: "put",
    path: "/api/providers/{provider_id}/policy",
    summary: "Switch enforcement on or off, set the thresholds",
    operationId: "setPolicy",
    body: "PolicyRequest",
    responses: { 200: "PolicyView" },
    handler: async (c, { params, body: b }, { ctx }) =>
      c.json(
        (await configurePolicy(ctx, {
          hostRef: b.host_id,
          providerId: params.provider_id,
          ...(b.enforce !== undefined ? { enforce: b.enforce } : {}),
          ...(b.fail_after !== undefined ? { failAfter: b.fail_after } : {}),
          ...(b.resume_after !== undefined ? { resumeAfter: b.resume_after } : {}),
        })) satisfies Body<"PolicyView">,
      ),
  }),
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/policy/release",
    summary: "Hand control back: enforcement off, what relay paused resumed, latches cleared",
    operationId: "releasePolicy",
    body: "ReleaseRequest",
    responses: { 200: "PolicyRelease" },
    handler: async (c, { params, body }, { ctx }) =>
      c.json(
        (await releaseProvider(ctx, {
          hostRef: body.host_id,
          providerId: params.provider_id,
        })) satisfies Body<"PolicyRelease">,
      ),
  }),
];
