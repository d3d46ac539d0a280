import { previewRotation, type RotateRequest, rotateKeys } from "../../../provision/rotate.js";
import { defineRoute } from "../route.js";
import type { Body } from "../schemas/responses.js";

/** Key rotation in place (the same verb as `relay provider rotate`). */
export const rotateRoutes = [
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/rotate",
    summary:
      "Rotate keys in place: each new key proven first, written, the account tested; same ids and bindings (dry_run: the plan)",
    operationId: "rotateKeys",
    body: "RotateRequest",
    responses: { 200: "RotationAnswer" },
    handler: async (c, { params, body: b }, { ctx }) => {
      const req: RotateRequest = {
        hostRef: b.host_id,
        providerId: params.provider_id,
        keys: b.keys,
        ...(b.old_keys ? { oldKeys: b.old_keys } : {}),
        ...(b.accounts !== undefined ? { accounts: b.accounts } : {}),
        ...(b.max_parallel !== undefined ? { maxParallel: b.max_parallel } : {}),
      };
      if (b.dry_run === true) return c.json((await previewRotation(ctx, req)) satisfies Body<"RotationPlan">);
      const options = b.expected_fingerprint ? { expectedFingerprint: b.expected_fingerprint } : {};
      return c.json((await rotateKeys(ctx, req, options)) satisfies Body<"RotationResult">);
    },
  }),
];
