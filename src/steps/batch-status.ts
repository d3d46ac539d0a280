import type { AppContext } from "../app/context.js";
import { type BatchEvent, type BatchState, nextBatchState } from "../domain/batch-state.js";
import { type BatchRow, getBatchRow, setBatchStatus } from "../store/batches.js";
import { appendEvent } from "../store/events.js";
import { findHost } from "../store/hosts.js";

/**
 * Records what happened to a batch: its next status and reason come from `nextBatchState`, the
 * only place they are decided; this is the only caller of `setBatchStatus`.
 */
export async function advanceBatch(
  ctx: AppContext,
  batchId: string,
  event: BatchEvent,
  extra: Partial<BatchRow> = {},
): Promise<BatchState> {
  const next = nextBatchState({ current: (await getBatchRow(ctx, batchId)).status, event });
  await setBatchStatus(ctx, batchId, next.status, next.reason, extra);
  return next;
}

/**
 * The start of every rollback (an import's, a migration's): the batch marked `rollback_running`
 * with its reason and the event recorded, before any host call. Returns the batch, its host and
 * the ids events of this rollback carry.
 */
export async function beginRollback(ctx: AppContext, batchId: string, reason: string) {
  const batch = await getBatchRow(ctx, batchId);
  const host = await findHost(ctx, batch.hostId);
  const where = { batchId, hostId: host.id, providerId: batch.providerId };
  await advanceBatch(ctx, batchId, { kind: "rollback_started", reason });
  await appendEvent(ctx, { kind: "rollback_started", message: reason, ...where });
  return { batch, host, where };
}
