import { migrateProvider, previewMigration } from "../../../provision/migrate.js";
import { defineRoute } from "../route.js";
import type { Body } from "../schemas/responses.js";

/** A model migration after a pack upgrade (`relay provider migrate`). */
export const migrateRoutes = [
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/migrate",
    summary:
      "After a pack upgrade that renames models: alias each old name to its replacement on the accounts and channel relay made (dry_run: the plan)",
    operationId: "migrateProvider",
    body: "MigrateRequest",
    responses: { 200: "MigrationAnswer" },
    handler: async (c, { params, body }, { ctx }) => {
      const req = { hostRef: body.host_id, providerId: params.provider_id };
      if (body.dry_run === true)
        return c.json((await previewMigration(ctx, req)) satisfies Body<"MigrationAnswer">);
      const options = body.expected_fingerprint ? { expectedFingerprint: body.expected_fingerprint } : {};
      return c.json((await migrateProvider(ctx, req, options)) satisfies Body<"MigrationAnswer">);
    },
  }),
];
