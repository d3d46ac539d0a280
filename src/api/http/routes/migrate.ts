import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { migrateProvider, previewMigration } from "../../../provision/migrate.js";
import { MigrateRequest } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { jsonBody, validator } from "../validate.js";

const validateMigrate = validator<MigrateRequest>(MigrateRequest);

/** Mounted under /api/providers: a model migration after a pack upgrade (`relay provider migrate`). */
export function migrateRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/:provider_id/migrate", async (c) => {
    const body = await jsonBody(c, validateMigrate);
    const req = { hostRef: body.host_id, providerId: c.req.param("provider_id") };
    if (body.dry_run === true)
      return c.json((await previewMigration(ctx, req)) satisfies Body<"MigrationAnswer">);
    const options = body.expected_fingerprint ? { expectedFingerprint: body.expected_fingerprint } : {};
    return c.json((await migrateProvider(ctx, req, options)) satisfies Body<"MigrationAnswer">);
  });
  return app;
}
