import type { AppContext } from "../app/context.js";
import { type BatchEvent, type BatchState, nextBatchState } from "../domain/batch-state.js";
import { type BatchRow, getBatchRow, setBatchStatus } from "../store/batches.js";

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
