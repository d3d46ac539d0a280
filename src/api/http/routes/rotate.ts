import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { previewRotation, type RotateRequest, rotateKeys } from "../../../provision/rotate.js";
import { RotateRequest as RotateBody } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { jsonBody, validator } from "../validate.js";

const validateRotate = validator<RotateBody>(RotateBody);

/** Mounted under /api/providers: key rotation in place (the same verb as `relay provider rotate`). */
export function rotateRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/:provider_id/rotate", async (c) => {
    const b = await jsonBody(c, validateRotate);
    const req: RotateRequest = {
      hostRef: b.host_id,
      providerId: c.req.param("provider_id"),
      keys: b.keys,
      ...(b.old_keys ? { oldKeys: b.old_keys } : {}),
      ...(b.accounts !== undefined ? { accounts: b.accounts } : {}),
      ...(b.max_parallel !== undefined ? { maxParallel: b.max_parallel } : {}),
    };
    if (b.dry_run === true) return c.json((await previewRotation(ctx, req)) satisfies Body<"RotationPlan">);
    const options = b.expected_fingerprint ? { expectedFingerprint: b.expected_fingerprint } : {};
    return c.json((await rotateKeys(ctx, req, options)) satisfies Body<"RotationResult">);
  });
  return app;
}
