import type { AppContext } from "../app/context.js";
import { AppError } from "../domain/errors.js";
import { logicalKey } from "../domain/naming.js";
import { advanceBatch } from "../steps/batch-status.js";
import { setItem } from "../store/batch-items.js";
import {
  type BatchRow,
  batchesWithPendingCreates,
  getBatch,
  getBatchRow,
  listItems,
  unfinishedBatches,
} from "../store/batches.js";
import { appendEvent } from "../store/events.js";
import { findHost } from "../store/hosts.js";
import { refreshProviderState } from "../store/installs.js";
import { providerLockIsLive, withProviderLock } from "../store/locks.js";
import { passedAccountTests } from "../store/probes.js";
import {
  batchResources,
  rekeyAccount,
  resourceIndex,
  settlePendingCreate,
  updateResource,
} from "../store/resources.js";
import { deleter, locateByName } from "./deletion.js";
import { rollbackUnlocked } from "./rollback.js";

export interface RecoveryOutcome {
  batch_id: string;
  previous_status: string;
  status: string;
  action:
    | "rolled_back"
    | "kept_working_accounts"
    | "settled_pending"
    | "skipped_live"
    | "rollback_failed"
    | "settle_failed"
    | "rotation_interrupted";
  detail: string;
}

/**
 * Finishes batches a crash left `running`, `rollback_running`, `pending` or `previewed`. Keys are
 * never stored, so an interrupted import cannot resume creating accounts; the rule is:
 * - `strict`: roll back everything the batch created;
 * - `partial`: keep the accounts whose smoke test passed, delete everything else of the batch;
 *   with no passing account, roll back completely;
 * - `rollback_running`: finish the rollback.
 * Then the creates a crash left unsettled in batches that had already finished (their status says
 * nothing was interrupted, so the rule above never sees them): each is looked up on the host and
 * recorded as `created` when found, `gone` when not.
 * A batch whose provider lock is held by a live process is left alone.
 */
export async function recoverBatches(ctx: AppContext): Promise<RecoveryOutcome[]> {
  const outcomes: RecoveryOutcome[] = [];
  for (const b of await unfinishedBatches(ctx))
    outcomes.push(await underLease(ctx, b, "its import or rollback is still running", recoverOne));
  const seen = new Set(outcomes.map((o) => o.batch_id));
  for (const b of (await batchesWithPendingCreates(ctx)).filter((x) => !seen.has(x.id)))
    outcomes.push(await underLease(ctx, b, "its provider is busy", settlePendingCreates));
  return outcomes;
}

/** Runs one batch's recovery holding its provider's lease; skipped while someone alive holds it. */
async function underLease(
  ctx: AppContext,
  b: BatchRow,
  busy: string,
  fn: (ctx: AppContext, b: BatchRow) => Promise<RecoveryOutcome>,
): Promise<RecoveryOutcome> {
  const key = { hostId: b.hostId, providerId: b.providerId };
  const skipped = { batch_id: b.id, previous_status: b.status, status: b.status };
  if (await providerLockIsLive(ctx, key)) return { ...skipped, action: "skipped_live", detail: busy };
  try {
    // The lease holder's ctx: each write checks the lease is still held (fencing).
    return await withProviderLock(ctx, key, "recover", (held) => fn(held, b), ctx.config.leaseMs);
  } catch (err) {
    if (!(err instanceof AppError && err.code === "PROVIDER_BUSY")) throw err;
    return { ...skipped, action: "skipped_live", detail: "another process took it over" };
  }
}

/**
 * A finished batch's `create_pending` records — the host was asked, the process died before the
 * answer was recorded — settled from the host: found by name and tag → `created` (the batch is
 * live, and its rollback then deletes it by id), absent → `gone`.
 */
async function settlePendingCreates(ctx: AppContext, b: BatchRow): Promise<RecoveryOutcome> {
  const status = (await getBatchRow(ctx, b.id)).status;
  const d = await deleter(ctx, await findHost(ctx, b.hostId), b.id);
  const settled: string[] = [];
  try {
    for (const row of (await batchResources(ctx, b.id)).filter((r) => r.state === "create_pending")) {
      const id = await locateByName(d, row.resourceType, row);
      await settlePendingCreate(ctx, row.id, id);
      settled.push(`${row.resourceType} ${row.name}: ${id === undefined ? "not on the host" : `#${id}`}`);
    }
  } catch (err) {
    return {
      batch_id: b.id,
      previous_status: status,
      status,
      action: "settle_failed",
      detail: `could not look up unfinished creates on the host: ${(err as Error).message}`,
    };
  } finally {
    await refreshProviderState(ctx, b.hostId, b.providerId);
  }
  await appendEvent(ctx, {
    kind: "recovery",
    message: `settled creates a crash left unrecorded: ${settled.join("; ")}`,
    batchId: b.id,
    hostId: b.hostId,
    providerId: b.providerId,
  });
  return {
    batch_id: b.id,
    previous_status: status,
    status,
    action: "settled_pending",
    detail: settled.join("; "),
  };
}

async function recoverOne(ctx: AppContext, b: BatchRow): Promise<RecoveryOutcome> {
  if (b.kind === "rotation") return await recoverRotation(ctx, b);
  await appendEvent(ctx, {
    kind: "recovery",
    message: `recovering a batch left ${b.status}`,
    batchId: b.id,
    hostId: b.hostId,
    providerId: b.providerId,
  });
  const failed = (err: unknown): RecoveryOutcome => ({
    batch_id: b.id,
    previous_status: b.status,
    status: "failed",
    action: "rollback_failed",
    detail: (err as Error).message,
  });
  if (b.mode === "partial" && b.status === "running") {
    const kept = await keepPassingAccounts(ctx, b.id);
    if (kept > 0) {
      try {
        await rollbackUnlocked(ctx, b.id, "interrupted; removing what was not finished");
      } catch (err) {
        // The unfinished part could not be removed: the batch stays `failed` (rollback_failed)
        // so that the next recovery or `relay batch rollback` finishes the job.
        await restoreKept(ctx, b.id);
        await refreshProviderState(ctx, b.hostId, b.providerId);
        return failed(err);
      }
      return finishPartial(ctx, b.id, b.hostId, b.providerId, kept);
    }
  }
  try {
    const view = await rollbackUnlocked(ctx, b.id, `interrupted while ${b.status}; rolled back by recovery`);
    return {
      batch_id: b.id,
      previous_status: b.status,
      status: view.status,
      action: "rolled_back",
      detail: view.status_reason,
    };
  } catch (err) {
    return failed(err);
  }
}

/**
 * Marks the tested accounts of an interrupted partial batch as kept: their rows become `reused`
 * (origin stays the batch) so the rollback that follows skips them, and are restored afterwards.
 */
async function keepPassingAccounts(ctx: AppContext, batchId: string): Promise<number> {
  const passed = await passedAccountTests(ctx, batchId);
  const rows = await batchResources(ctx, batchId);
  const keep = rows.filter((r) => r.resourceType === "account" && r.state === "created" && passed.has(r.id));
  // With no passing account nothing is kept: the group, channel and plan go with the rest.
  if (keep.length === 0) return 0;
  const parents = rows.filter(
    (r) => ["group", "channel", "plan"].includes(r.resourceType) && r.state === "created",
  );
  for (const r of [...keep, ...parents]) await updateResource(ctx, r.id, { state: "reused" });
  return keep.length;
}

/** Undoes keepPassingAccounts' marking when the clean-up could not run. */
async function restoreKept(ctx: AppContext, batchId: string) {
  for (const r of await batchResources(ctx, batchId))
    if (r.state === "reused" && r.origin === "created") await updateResource(ctx, r.id, { state: "created" });
}

async function finishPartial(
  ctx: AppContext,
  batchId: string,
  hostId: string,
  providerId: string,
  kept: number,
): Promise<RecoveryOutcome> {
  for (const r of await batchResources(ctx, batchId)) {
    if (r.state === "reused" && r.origin === "created") await updateResource(ctx, r.id, { state: "created" });
    if (r.resourceType === "account" && r.rawKeyHash) {
      await setItem(
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
  const { reason } = await advanceBatch(ctx, batchId, { kind: "recovery_kept", kept });
  await refreshProviderState(ctx, hostId, providerId);
  return {
    batch_id: batchId,
    previous_status: "running",
    status: (await getBatch(ctx, batchId)).status,
    action: "kept_working_accounts",
    detail: reason,
  };
}

/**
 * A rotation a crash left running created nothing, so nothing is deleted: an account whose new
 * key was written (item `created`) is recorded under the new key; one whose write was in flight
 * may hold either key and is named, to be rotated again. The batch ends `failed`.
 */
async function recoverRotation(ctx: AppContext, b: BatchRow): Promise<RecoveryOutcome> {
  const records = await batchlessAccounts(ctx, b);
  const uncertain: string[] = [];
  for (const i of await listItems(ctx, b.id)) {
    const accountId = (i.result as { account_id?: number }).account_id;
    const phase = (i.result as { phase?: string }).phase;
    const row = records.find((r) => r.hostResourceId === accountId);
    if (i.status === "created" && row) {
      const gen = /^g(\d+):/.exec(row.logicalKey)?.[1] ?? "1";
      await rekeyAccount(ctx, row.id, {
        logicalKey: logicalKey(Number(gen), "account", i.rawKeyHash),
        rawKeyHash: i.rawKeyHash,
      });
      uncertain.push(`#${accountId} holds the new key ${i.keyMask}, untested`);
    } else if (i.status === "pending" && phase === "writing")
      uncertain.push(`#${accountId} may hold ${i.keyMask} or its old key`);
  }
  const next = await advanceBatch(ctx, b.id, { kind: "rotation_interrupted", providerId: b.providerId });
  await appendEvent(ctx, {
    kind: "recovery",
    message: `rotation interrupted${uncertain.length ? `: ${uncertain.join("; ")}` : ""}`,
    batchId: b.id,
    hostId: b.hostId,
    providerId: b.providerId,
  });
  return {
    batch_id: b.id,
    previous_status: b.status,
    status: next.status,
    action: "rotation_interrupted",
    detail: uncertain.length > 0 ? `rotate again: ${uncertain.join("; ")}` : next.reason,
  };
}

/** The live account records of the batch's provider on its host (a rotation's accounts belong to imports). */
async function batchlessAccounts(ctx: AppContext, b: BatchRow) {
  return [...(await resourceIndex(ctx, b.hostId, b.providerId)).values()].filter(
    (r) => r.resourceType === "account" && ["created", "reused"].includes(r.state),
  );
}
