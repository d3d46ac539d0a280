import { and, eq, inArray } from "drizzle-orm";
import type { AppContext } from "../app/context.js";
import { getBatch, setBatchStatus, setItem } from "../store/batches.js";
import { acquireLock, currentOwner, lockIsLive, providerLockName, releaseLock } from "../store/locks.js";
import { appendEvent, batchResources, setProviderStatus, updateResource } from "../store/resources.js";
import { importBatches, probeResults } from "../store/schema.js";
import { LOCK_TTL_MS, rollbackBatch } from "./rollback.js";

export interface RecoveryOutcome {
  batch_id: string;
  previous_status: string;
  status: string;
  action: "rolled_back" | "kept_working_accounts" | "skipped_live" | "rollback_failed";
  detail: string;
}

/**
 * Finishes batches a crash left `running`, `rollback_running`, `pending` or `previewed`. Keys are
 * never stored, so an interrupted import cannot resume creating accounts; the rule is:
 * - `strict`: roll back everything the batch created;
 * - `partial`: keep the accounts whose smoke test passed, delete everything else of the batch;
 *   with no passing account, roll back completely;
 * - `rollback_running`: finish the rollback.
 * A batch whose provider lock is held by a live process is left alone.
 */
export async function recoverBatches(ctx: AppContext): Promise<RecoveryOutcome[]> {
  const stuck = ctx.db
    .select()
    .from(importBatches)
    .where(inArray(importBatches.status, ["pending", "previewed", "running", "rollback_running"]))
    .orderBy(importBatches.createdAt)
    .all();
  const outcomes: RecoveryOutcome[] = [];
  for (const b of stuck) {
    const lockName = providerLockName(b.hostId, b.providerId);
    if (lockIsLive(ctx.db, lockName, ctx.clock())) {
      outcomes.push({
        batch_id: b.id,
        previous_status: b.status,
        status: b.status,
        action: "skipped_live",
        detail: "its import or rollback is still running",
      });
      continue;
    }
    const owner = currentOwner("recover");
    if (!acquireLock(ctx.db, lockName, owner, LOCK_TTL_MS, ctx.clock()).ok) continue;
    try {
      appendEvent(ctx, {
        kind: "recovery",
        message: `recovering a batch left ${b.status}`,
        batchId: b.id,
        hostId: b.hostId,
        providerId: b.providerId,
      });
      if (b.mode === "partial" && b.status === "running") {
        const kept = keepPassingAccounts(ctx, b.id);
        if (kept > 0) {
          try {
            await rollbackBatch(ctx, b.id, {
              lockHeld: true,
              reason: "interrupted; removing what was not finished",
            });
          } catch (err) {
            // The unfinished part could not be removed: the batch stays `failed` (rollback_failed)
            // so that the next recovery or `relay batch rollback` finishes the job.
            restoreKept(ctx, b.id);
            outcomes.push({
              batch_id: b.id,
              previous_status: b.status,
              status: "failed",
              action: "rollback_failed",
              detail: (err as Error).message,
            });
            continue;
          }
          outcomes.push(await finishPartial(ctx, b.id, b.hostId, b.providerId, kept));
          continue;
        }
      }
      try {
        const view = await rollbackBatch(ctx, b.id, {
          lockHeld: true,
          reason: `interrupted while ${b.status}; rolled back by recovery`,
        });
        outcomes.push({
          batch_id: b.id,
          previous_status: b.status,
          status: view.status,
          action: "rolled_back",
          detail: view.status_reason,
        });
      } catch (err) {
        outcomes.push({
          batch_id: b.id,
          previous_status: b.status,
          status: "failed",
          action: "rollback_failed",
          detail: (err as Error).message,
        });
      }
    } finally {
      releaseLock(ctx.db, lockName, owner);
    }
  }
  return outcomes;
}

/**
 * Marks the tested accounts of an interrupted partial batch as kept: their rows become `reused`
 * (origin stays the batch) so the rollback that follows skips them, and are restored afterwards.
 */
function keepPassingAccounts(ctx: AppContext, batchId: string): number {
  const passed = new Set(
    ctx.db
      .select({ resourceId: probeResults.resourceId })
      .from(probeResults)
      .where(
        and(
          eq(probeResults.batchId, batchId),
          eq(probeResults.kind, "account_test"),
          eq(probeResults.success, true),
        ),
      )
      .all()
      .map((p) => p.resourceId),
  );
  let kept = 0;
  for (const r of batchResources(ctx, batchId)) {
    if (r.resourceType === "account" && r.state === "created" && passed.has(r.id)) {
      updateResource(ctx, r.id, { state: "reused" });
      kept += 1;
    } else if (["group", "channel", "plan"].includes(r.resourceType) && r.state === "created") {
      updateResource(ctx, r.id, { state: "reused" });
    }
  }
  return kept;
}

/** Undoes keepPassingAccounts' marking when the clean-up could not run. */
function restoreKept(ctx: AppContext, batchId: string) {
  for (const r of batchResources(ctx, batchId))
    if (r.state === "reused" && r.origin === "created") updateResource(ctx, r.id, { state: "created" });
}

async function finishPartial(
  ctx: AppContext,
  batchId: string,
  hostId: string,
  providerId: string,
  kept: number,
): Promise<RecoveryOutcome> {
  for (const r of batchResources(ctx, batchId)) {
    if (r.state === "reused" && r.origin === "created") updateResource(ctx, r.id, { state: "created" });
    if (r.resourceType === "account" && r.rawKeyHash) {
      setItem(
        ctx,
        batchId,
        r.rawKeyHash,
        r.state === "reused" || r.state === "created"
          ? { status: "tested" }
          : {
              status: "failed",
              errorCode: "INTERRUPTED",
              errorMessage: "import interrupted before this key was finished; import it again",
            },
      );
    }
  }
  const reason = `interrupted; recovery kept ${kept} tested account(s) and removed the rest; re-import the missing keys`;
  setBatchStatus(ctx, batchId, "partially_succeeded", reason);
  setProviderStatus(
    ctx,
    hostId,
    providerId,
    "installed",
    `${kept} working account(s) after recovery; access not verified`,
  );
  return {
    batch_id: batchId,
    previous_status: "running",
    status: getBatch(ctx, batchId).status,
    action: "kept_working_accounts",
    detail: reason,
  };
}
