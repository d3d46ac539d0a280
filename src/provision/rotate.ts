import { randomBytes } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { conflict, invalidInput } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { summaryOfKeys } from "../domain/plan.js";
import { rotationWaves } from "../domain/rotation.js";
import { advanceBatch } from "../steps/batch-status.js";
import { getBatchRow, insertBatch } from "../store/batches.js";
import { nowIso } from "../store/db.js";
import { appendEvent } from "../store/events.js";
import { findHost } from "../store/hosts.js";
import { ensureInstall, refreshProviderState } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import { mapLimit } from "../util/concurrency.js";
import type { IntakeKey } from "./keys.js";
import { rotateAccount } from "./rotate-account.js";
import { buildRotationPlan } from "./rotate-plan.js";
import type {
  RotateRequest,
  RotationInternals,
  RotationOutcome,
  RotationPlan,
  RotationResult,
} from "./rotate-types.js";

export type { RotateRequest, RotationPlan, RotationResult } from "./rotate-types.js";

export interface RotateOptions {
  /** Refuse when the host or the keys changed since the preview that produced this fingerprint. */
  expectedFingerprint?: string;
  onBatchOpened?: (batchId: string) => void;
}

const MAX_PARALLEL = 16;

/** The request's own limits, checked before anything is read. */
export function checkRotateRequest(req: RotateRequest): void {
  const k = req.maxParallel ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > MAX_PARALLEL)
    throw invalidInput("MAX_PARALLEL_INVALID", `max parallel takes a whole number from 1 to ${MAX_PARALLEL}`);
  if (
    Array.isArray(req.accounts) &&
    (req.accounts.length === 0 || req.accounts.some((id) => !Number.isInteger(id) || id <= 0))
  )
    throw invalidInput(
      "ACCOUNTS_INVALID",
      "accounts takes revoked, balance_empty or account ids (positive whole numbers)",
    );
}

/** Preview: what a rotation would do; reads the host, writes nothing anywhere. */
export async function previewRotation(ctx: AppContext, req: RotateRequest): Promise<RotationPlan> {
  checkRotateRequest(req);
  return (await buildRotationPlan(ctx, req)).plan;
}

/**
 * Rotates keys in place (issue #28 item 2) as a batch in the ledger: the plan is rebuilt under
 * the provider's lease (each new key proven through the host's model preview first), the batch
 * and one item per account recorded before any host write, then at most `maxParallel` accounts
 * of a group at a time. Account ids, group bindings and subscriptions are never touched.
 */
export async function rotateKeys(
  ctx: AppContext,
  req: RotateRequest,
  options: RotateOptions = {},
): Promise<RotationResult> {
  checkRotateRequest(req);
  const host = await findHost(ctx, req.hostRef);
  const key = { hostId: host.id, providerId: req.providerId, hostName: host.name };
  return await withProviderLock(
    ctx,
    key,
    "rotation",
    async (ctx) => {
      const { plan, internals } = await buildRotationPlan(ctx, req);
      if (options.expectedFingerprint && options.expectedFingerprint !== plan.fingerprint)
        throw conflict("PLAN_STALE", "the host or the key lists changed since the preview", {
          hint: "Preview the rotation again (--dry-run) and review the new plan.",
        });
      if (plan.blocked)
        throw conflict("ROTATION_BLOCKED", `the rotation cannot run: ${plan.blocked_reasons.join("; ")}`, {
          details: { plan },
          hint: hint`Run ${act.providerRotate(`${plan.provider_id} --host ${host.name} --keys-file FILE --dry-run`)} to see each account and key.`,
        });
      return await run(ctx, plan, internals, options);
    },
    ctx.config.leaseMs,
  );
}

async function run(
  ctx: AppContext,
  plan: RotationPlan,
  internals: RotationInternals,
  options: RotateOptions,
): Promise<RotationResult> {
  const batchId = `r_${ctx.clock().toISOString().slice(0, 10).replace(/-/g, "")}_${randomBytes(5).toString("hex")}`;
  const byLine = new Map(internals.keys.map((k) => [k.line, k]));
  const work = plan.accounts.flatMap((a) => {
    const k = a.new_key_line === null ? undefined : byLine.get(a.new_key_line);
    const r = [...internals.records.values()].find((x) => x.id === internals.resourceIds.get(a.account_id));
    return k && r?.rawKeyHash
      ? [{ plan: a, key: k, oldKeyHash: r.rawKeyHash, account: { groupId: a.group_id } }]
      : [];
  });
  await ensureInstall(ctx, internals.host.id, internals.def.provider_id);
  await openRotation(ctx, plan, internals, batchId, work);
  options.onBatchOpened?.(batchId);
  const accounts: RotationResult["accounts"] = [];
  try {
    for (const wave of rotationWaves(work, plan.max_parallel)) {
      await mapLimit(wave, plan.max_parallel, async (w) => {
        const r = await rotateAccount(
          { ctx, internals, batchId, smokeModel: plan.smoke_model },
          w.plan,
          w.key,
          w.oldKeyHash,
        );
        ctx.metrics.rotations.inc({ outcome: r.outcome });
        accounts.push(r);
      });
    }
  } catch (err) {
    await advanceBatch(ctx, batchId, {
      kind: "import_failed",
      why: `rotation stopped: ${(err as Error).message}`,
    });
    throw err;
  }
  const summary: Record<RotationOutcome, number> = { rotated: 0, restored: 0, failed: 0 };
  for (const a of accounts) summary[a.outcome] += 1;
  const state = await advanceBatch(ctx, batchId, { kind: "rotation_finished", ...summary });
  await appendEvent(ctx, {
    kind: "rotation_finished",
    message: state.reason,
    batchId,
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
  });
  await refreshProviderState(ctx, internals.host.id, internals.def.provider_id);
  const batch = await getBatchRow(ctx, batchId);
  accounts.sort((a, b) => a.account_id - b.account_id);
  return {
    batch_id: batchId,
    status: batch.status,
    status_reason: batch.statusReason,
    accounts,
    summary,
    warnings: plan.warnings,
  };
}

/** The batch (kind rotation) and one item per account, keyed by the new key's hash, before any write. */
async function openRotation(
  ctx: AppContext,
  plan: RotationPlan,
  internals: RotationInternals,
  batchId: string,
  work: { plan: RotationPlan["accounts"][number]; key: IntakeKey }[],
): Promise<void> {
  await insertBatch(
    ctx,
    {
      id: batchId,
      kind: "rotation",
      hostId: internals.host.id,
      providerId: internals.def.provider_id,
      packVersion: plan.pack_version,
      mode: "partial",
      accessMode: null,
      planFingerprint: plan.fingerprint,
      options: { accounts: plan.accounts_selector, max_parallel: plan.max_parallel },
      keyCount: work.length,
      summary: summaryOfKeys(work.length),
      startedAt: nowIso(ctx),
    },
    work.map((w, i) => ({
      position: i,
      hash: w.key.hash,
      mask: w.key.mask,
      status: "pending",
      errorCode: null,
      errorMessage: null,
      accountName: w.plan.name,
      line: w.key.line,
      // What the item is about, never a key: the account and its old key's fingerprint.
      extra: { account_id: w.plan.account_id, old_key: w.plan.old_key, phase: "intent" },
    })),
  );
  await appendEvent(ctx, {
    kind: "rotation_started",
    message: `rotation of ${work.length} account(s) (${plan.accounts_selector}), at most ${plan.max_parallel} of a group at a time`,
    batchId,
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
  });
}
