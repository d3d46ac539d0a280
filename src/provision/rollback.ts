import type { AppContext } from "../app/context.js";
import { AppError, conflict, invalidInput } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { advanceBatch, beginRollback } from "../steps/batch-status.js";
import { type BatchView, getBatch, getBatchRow, markItemsRolledBack } from "../store/batches.js";
import { appendEvent } from "../store/events.js";
import { findHost } from "../store/hosts.js";
import { bumpGeneration, refreshProviderState } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import { batchResources, liveResources } from "../store/resources.js";
import { deleteRows, deleter, UNDONE } from "./deletion.js";
import { isMigrationBatch, restoreMigration, restorePlan } from "./migrate-restore.js";

/** Reverse dependency order (design §7). */
const ORDER = ["subscription", "probe_key", "account", "plan", "channel", "group"] as const;

export interface RollbackPreview {
  batch_id: string;
  would_delete: { type: string; name: string; host_resource_id: number | null }[];
  /** A model migration's batch: the mappings its rollback would put back. */
  would_restore?: {
    type: string;
    name: string;
    host_resource_id: number;
    model_mapping: Record<string, unknown>;
    /** A channel whose pricing the migration changed: the pricing put back. */
    model_pricing?: object[];
  }[];
}

/**
 * A rotation created nothing and relay keeps no old key: there is nothing to delete, and putting
 * the old keys back is another rotation (with the old keys as the new ones).
 */
function refuseRotation<T extends { kind: string; id: string; providerId: string }>(batch: T): T {
  if (batch.kind !== "rotation") return batch;
  throw invalidInput(
    "ROTATION_NOT_ROLLED_BACK",
    `batch ${batch.id} is a key rotation: it created nothing to delete`,
    {
      hint: hint`To put old keys back, rotate again with them as the new keys: ${act.providerRotate(`${batch.providerId} --host HOST --keys-file OLD_KEYS --accounts ID,ID`)}.`,
    },
  );
}

/** A rollback's dry run (`relay batch rollback --dry-run`, the API's `dry_run`): nothing changes. */
export async function rollbackPreview(ctx: AppContext, batchId: string): Promise<RollbackPreview> {
  const batch = await getBatchRow(ctx, batchId);
  if (isMigrationBatch(batch))
    return { batch_id: batchId, would_delete: [], would_restore: await restorePlan(ctx, batchId) };
  return { batch_id: batchId, would_delete: await rollbackPlan(ctx, batchId) };
}

/** What a rollback of this batch would delete, in the order it would: read from the records only. */
export async function rollbackPlan(
  ctx: AppContext,
  batchId: string,
): Promise<RollbackPreview["would_delete"]> {
  refuseRotation(await getBatchRow(ctx, batchId)); // BATCH_NOT_FOUND for an unknown id
  const rows = (await batchResources(ctx, batchId)).filter(
    (r) => r.origin === "created" && UNDONE.includes(r.state),
  );
  return ORDER.flatMap((type) =>
    rows
      .filter((r) => r.resourceType === type)
      .map((r) => ({ type, name: r.name, host_resource_id: r.hostResourceId })),
  );
}

/**
 * Deletes, in reverse dependency order, only what this batch created; tolerates resources already
 * gone; resumable. A failed delete leaves the batch `failed` (the provider then reads `drifted`);
 * running it again finishes the job.
 */
export async function rollbackBatch(
  ctx: AppContext,
  batchId: string,
  options: { reason?: string; onProgress?: (message: string) => void } = {},
): Promise<BatchView> {
  const batch = refuseRotation(await getBatchRow(ctx, batchId));
  if (batch.status === "rolled_back") return await getBatch(ctx, batchId);
  const host = await findHost(ctx, batch.hostId);
  const key = { hostId: host.id, providerId: batch.providerId, hostName: host.name };
  return await withProviderLock(
    ctx,
    key,
    "rollback",
    async (ctx) => {
      if (!isMigrationBatch(batch)) await refuseIfOthersDepend(ctx, batch.id, batch.hostId, batch.providerId);
      return rollbackUnlocked(ctx, batchId, options.reason ?? "rolled back on request", options.onProgress);
    },
    ctx.config.leaseMs,
  );
}

/** The rollback itself, for callers that already hold the provider's lease (import, recovery). */
export async function rollbackUnlocked(
  ctx: AppContext,
  batchId: string,
  reason: string,
  onProgress?: (message: string) => void,
): Promise<BatchView> {
  try {
    const view = isMigrationBatch(await getBatchRow(ctx, batchId))
      ? await restoreMigration(ctx, batchId, reason, onProgress)
      : await rollbackSteps(ctx, batchId, reason, onProgress);
    ctx.metrics.rollbacks.inc({ outcome: "rolled_back" });
    return view;
  } catch (err) {
    ctx.metrics.rollbacks.inc({ outcome: "incomplete" });
    throw err;
  }
}

async function rollbackSteps(
  ctx: AppContext,
  batchId: string,
  reason: string,
  onProgress?: (message: string) => void,
): Promise<BatchView> {
  const { batch, host, where } = await beginRollback(ctx, batchId, reason);
  const del = await deleter(ctx, host, batchId);
  const rows = (await batchResources(ctx, batchId)).filter(
    (r) => r.origin === "created" && UNDONE.includes(r.state),
  );
  const failures: string[] = [];
  for (const type of ORDER) {
    const ofType = rows.filter((r) => r.resourceType === type);
    if (ofType.length === 0) continue;
    onProgress?.(`deleting ${ofType.length} ${type}(s)`);
    try {
      await deleteRows(del, type, ofType, failures);
    } catch (err) {
      failures.push(`${type}: ${(err as Error).message}`);
    }
    // Never delete a parent while a child of this batch is still alive on the host.
    if (failures.length > 0) break;
  }
  if (failures.length > 0) {
    const why = (await advanceBatch(ctx, batchId, { kind: "rollback_incomplete", failures })).reason;
    await refreshProviderState(ctx, host.id, batch.providerId);
    await appendEvent(ctx, { kind: "rollback_failed", message: why, ...where });
    throw new AppError("host_rejected", "ROLLBACK_INCOMPLETE", why, {
      hint: hint`Run ${act.batchRollback(batchId)} again once the host is healthy.`,
    });
  }
  await markItemsRolledBack(ctx, batchId);
  if (rows.some((r) => r.resourceType === "group")) await bumpGeneration(ctx, host.id, batch.providerId);
  await advanceBatch(ctx, batchId, { kind: "rollback_done", reason });
  await refreshProviderState(ctx, host.id, batch.providerId);
  await appendEvent(ctx, {
    kind: "rolled_back",
    message: `rolled back ${rows.length} resource(s)`,
    ...where,
  });
  return await getBatch(ctx, batchId);
}

/** Rolling back a batch whose group other live batches' accounts sit in would strand them. */
async function refuseIfOthersDepend(ctx: AppContext, batchId: string, hostId: string, providerId: string) {
  const mine = (await batchResources(ctx, batchId)).filter(
    (r) =>
      ["group", "channel", "plan"].includes(r.resourceType) &&
      r.origin === "created" &&
      UNDONE.includes(r.state),
  );
  if (mine.length === 0) return;
  const generations = new Set(mine.map((r) => r.logicalKey.split(":")[0]));
  const dependents = (await liveResources(ctx, hostId, providerId)).filter(
    (r) =>
      r.batchId !== batchId && r.resourceType === "account" && generations.has(r.logicalKey.split(":")[0]),
  );
  if (dependents.length > 0) {
    const others = [...new Set(dependents.map((r) => r.batchId))].join(", ");
    throw conflict(
      "DEPENDENT_BATCHES",
      `batch ${batchId} created the group that batches ${others} also use`,
      {
        hint: `Roll back ${others} first (newest first).`,
      },
    );
  }
}
