import { importKeys } from "../../../provision/import.js";
import { previewTriage } from "../../../provision/precheck.js";
import { buildPlan } from "../../../provision/preview.js";
import { rollbackBatch, rollbackPreview } from "../../../provision/rollback.js";
import type { ImportRequest } from "../../../provision/types.js";
import { getBatch, listBatches } from "../../../store/batches.js";
import { findHost } from "../../../store/hosts.js";
import { defineRoute } from "../route.js";
import type { ImportRequest as ImportBody } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, page, toTargets } from "../validate.js";

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

/** Imports of provider keys, and their batches (`relay import …`, `relay batch …`). */
export const importRoutes = [
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/preview-import",
    summary: "Plan an import (reads the host, writes nothing)",
    operationId: "previewImport",
    body: "ImportRequest",
    responses: { 200: "ImportPlan" },
    handler: async (c, { params, body }, { ctx }) => {
      const { plan, internals } = await buildPlan(ctx, toImportRequest(params.provider_id, body, "strict"));
      // `precheck: true` on a preview: each new key's class, read through the host's model preview.
      if (body.precheck === true) plan.key_triage = await previewTriage(ctx, internals, plan);
      return c.json(plan satisfies Body<"ImportPlan">);
    },
  }),
  // 202 with the batch to poll once the batch is recorded; `?wait=true` answers with the result.
  // Refusals (bad input, a stale or blocked plan, a busy provider) come before the batch exists
  // and are answered as errors either way.
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/import",
    summary:
      "Import keys (a saga; strict or partial). Answers 202 once the batch is recorded, with `Location` to poll (GET the batch until its status is final); `?wait=true` answers with the result instead",
    operationId: "importKeys",
    query: { wait: "`true` answers when the batch has ended, with its result" },
    body: "ImportRequest",
    responses: {
      202: ["ImportAccepted", "the batch is recorded and running; poll `location`"],
      200: ["ImportResult", "with wait=true: the batch ran; `status` says how it ended"],
    },
    handler: async (c, { params, body }, { ctx, track }) => {
      const wait = boolQuery(c, "wait");
      let opened: (batchId: string) => void = () => {};
      const batchOpened = new Promise<string>((resolve) => {
        opened = resolve;
      });
      const run = importKeys(ctx, toImportRequest(params.provider_id, body, "strict"), {
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
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/providers/{provider_id}/import-batches",
    summary: "Batches of a provider, newest first",
    operationId: "listImportBatches",
    query: { host_id: "only this host" },
    paged: true,
    responses: { 200: "BatchSummaryList" },
    handler: async (c, { params, query }, { ctx }) => {
      const hostId = query.host_id ? (await findHost(ctx, query.host_id)).id : undefined;
      const batches = await listBatches(ctx, {
        providerId: params.provider_id,
        ...(hostId ? { hostId } : {}),
      });
      return c.json(page(c, batches) satisfies Body<"BatchSummaryList">);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/import-batches/{batch_id}",
    summary: "A batch in full",
    operationId: "getImportBatch",
    responses: { 200: "Batch" },
    handler: async (c, { params }, { ctx }) =>
      c.json((await getBatch(ctx, params.batch_id)) satisfies Body<"Batch">),
  }),
  // `{"dry_run": true}` answers what would be deleted, from relay's records; the host is not called.
  defineRoute({
    method: "post",
    path: "/api/import-batches/{batch_id}/rollback",
    summary:
      "Roll a batch back (resumable); with `dry_run: true` answer what would be deleted, in order, and change nothing",
    operationId: "rollbackImportBatch",
    body: "RollbackRequest",
    bodyOptional: true,
    responses: { 200: ["RollbackAnswer", "rolled back: the batch; with dry_run: what would be deleted"] },
    handler: async (c, { params, body }, { ctx }) => {
      if (body.dry_run)
        return c.json((await rollbackPreview(ctx, params.batch_id)) satisfies Body<"RollbackPreview">);
      return c.json((await rollbackBatch(ctx, params.batch_id)) satisfies Body<"Batch">);
    },
  }),
];
