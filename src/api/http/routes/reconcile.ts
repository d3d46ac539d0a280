import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import { parseRetest } from "../../../domain/retest.js";
import { reconcileProvider } from "../../../reconcile/runner.js";
import { listProviders, providerResources, providerStatus } from "../../../reconcile/status.js";
import { ReconcileRequest } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { jsonBody, page, validator } from "../validate.js";

const validateReconcile = validator<ReconcileRequest>(ReconcileRequest);

/** Mounted under /api/providers: reconcile, status and resources of one provider. */
export function reconcileRoutes(ctx: AppContext) {
  const app = new Hono();
  app.get("/", async (c) =>
    c.json(
      page(c, await listProviders(ctx, c.req.query("host_id") || undefined)) satisfies Body<"ProviderList">,
    ),
  );
  app.post("/:provider_id/reconcile", async (c) => {
    const body = await jsonBody(c, validateReconcile);
    return c.json(
      (await reconcileProvider(
        ctx,
        { hostRef: body.host_id, providerId: c.req.param("provider_id") },
        {
          trigger: "manual",
          heal: body.heal === true,
          ...(body.retest ? { retest: parseRetest(body.retest) } : {}),
        },
      )) satisfies Body<"ReconcileResult">,
    );
  });
  app.get("/:provider_id/status", async (c) =>
    c.json(
      (await providerStatus(
        ctx,
        c.req.param("provider_id"),
        c.req.query("host_id") || undefined,
      )) satisfies Body<"ProviderStatus">,
    ),
  );
  app.get("/:provider_id/resources", async (c) => {
    const hostId = c.req.query("host_id");
    if (hostId === "") throw invalidInput("HOST_REQUIRED", "host_id must not be empty");
    return c.json(
      page(
        c,
        await providerResources(ctx, c.req.param("provider_id"), hostId),
      ) satisfies Body<"ResourceList">,
    );
  });
  return app;
}
