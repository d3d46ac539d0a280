import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { importKeys } from "../../../provision/import.js";
import { buildPlan } from "../../../provision/preview.js";
import { rollbackBatch, rollbackPreview } from "../../../provision/rollback.js";
import type { ImportRequest } from "../../../provision/types.js";
import { getBatch, listBatches } from "../../../store/batches.js";
import { findHost } from "../../../store/hosts.js";
import { ImportRequest as ImportBody, RollbackRequest } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, jsonBody, page, toTargets, validator } from "../validate.js";

const validateImport = validator<ImportBody>(ImportBody);
const validateRollback = validator<RollbackRequest>(RollbackRequest);

export function toImportRequest(
  providerId: string,
  body: ImportBody,
  defaultMode: "strict" | "partial",
): ImportRequest {
  return {
    hostRef: body.host_id,
    providerId,
    keys: body.keys,
    mode: body.mode ?? defaultMode,
    ...(body.access_mode ? { accessMode: body.access_mode } : {}),
    subscribe: toTargets(body.subscription_targets),
    withPlan: body.with_plan === true,
    ...(body.precheck === undefined ? {} : { precheck: body.precheck }),
  };
}

/** `track`: `relay serve` waits for accepted imports before it stops (a grace period). */
export function providerRoutes(
  ctx: AppContext,
  track: (work: Promise<unknown>, label: string) => void = () => {},
) {
  const app = new Hono();
  app.post("/:provider_id/preview-import", async (c) => {
    const body = await jsonBody(c, validateImport);
    const { plan } = await buildPlan(ctx, toImportRequest(c.req.param("provider_id"), body, "strict"));
    return c.json(plan satisfies Body<"ImportPlan">);
  });
  // 202 with the batch to poll once the batch is recorded; `?wait=true` answers with the result.
  // Refusals (bad input, a stale or blocked plan, a busy provider) come before the batch exists
  // and are answered as errors either way.
  app.post("/:provider_id/import", async (c) => {
    const body = await jsonBody(c, validateImport);
    const wait = boolQuery(c, "wait");
    let opened: (batchId: string) => void = () => {};
    const batchOpened = new Promise<string>((resolve) => {
      opened = resolve;
    });
    const run = importKeys(ctx, toImportRequest(c.req.param("provider_id"), body, "strict"), {
      ...(body.expected_fingerprint ? { expectedFingerprint: body.expected_fingerprint } : {}),
      onBatchOpened: (id) => opened(id),
    });
    track(run, "import");
    if (wait) return c.json((await run) satisfies Body<"ImportResult">);
    const batchId = await Promise.race([batchOpened, run.then((r) => r.batch_id)]);
    run.catch((err) => ctx.logger.error({ err, batch_id: batchId }, "import failed after it was accepted"));
    const location = `/api/import-batches/${batchId}`;
    c.header("Location", location);
    return c.json({ batch_id: batchId, status: "running", location } satisfies Body<"ImportAccepted">, 202);
  });
  app.get("/:provider_id/import-batches", async (c) => {
    const hostRef = c.req.query("host_id");
    const hostId = hostRef ? (await findHost(ctx, hostRef)).id : undefined;
    return c.json(
      page(
        c,
        await listBatches(ctx, { providerId: c.req.param("provider_id"), ...(hostId ? { hostId } : {}) }),
      ) satisfies Body<"BatchSummaryList">,
    );
  });
  return app;
}

export function batchRoutes(ctx: AppContext) {
  const app = new Hono();
  app.get("/:batch_id", async (c) =>
    c.json((await getBatch(ctx, c.req.param("batch_id"))) satisfies Body<"Batch">),
  );
  // `{"dry_run": true}` answers what would be deleted, from relay's records; the host is not called.
  app.post("/:batch_id/rollback", async (c) => {
    const body = await jsonBody(c, validateRollback, { optional: true });
    const id = c.req.param("batch_id");
    if (body.dry_run) return c.json((await rollbackPreview(ctx, id)) satisfies Body<"RollbackPreview">);
    return c.json((await rollbackBatch(ctx, id)) satisfies Body<"Batch">);
  });
  return app;
}
