import { randomBytes } from "node:crypto";
import type { AppContext } from "../app/context.js";
import type { AccessState } from "../domain/access.js";
import { AppError, conflict, invalidInput } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { logicalKey, ownershipTag } from "../domain/naming.js";
import { type Action, editedAt } from "../domain/plan.js";
import { isHostError } from "../host/sub2api/index.js";
import { runAccessProbe } from "../steps/access-proof.js";
import { advanceBatch } from "../steps/batch-status.js";
import { assignManyAndRecord, type GrantOutcome } from "../steps/subscriptions.js";
import { itemStatuses } from "../store/batches.js";
import { appendEvent } from "../store/events.js";
import { findHost } from "../store/hosts.js";
import { ensureInstall, refreshProviderState } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import { provisionAccounts } from "./accounts-step.js";
import { precheckKeys, refuseDisallowedBaseUrl } from "./precheck.js";
import { buildPlan } from "./preview.js";
import { channelStep, groupStep, planStep } from "./resource-steps.js";
import { rollbackUnlocked } from "./rollback.js";
import { describe, importResult, openBatch, type SagaContext, StepFailed } from "./saga.js";
import type {
  ImportOptions,
  ImportPlan,
  ImportRequest,
  ImportResult,
  PlanInternals,
  SubscriptionOutcome,
} from "./types.js";

export type { ImportOptions, ImportResult, ProgressEvent } from "./types.js";

/**
 * Import keys as a saga (design §5): every host write is recorded as intended before it is sent and
 * completed after; a failure in strict mode rolls the batch back; partial mode keeps what works.
 * One import, rollback or reconcile per (host, provider) at a time.
 */
export async function importKeys(
  ctx: AppContext,
  req: ImportRequest,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const progress = options.onProgress ?? (() => {});
  const host = await findHost(ctx, req.hostRef);
  const key = { hostId: host.id, providerId: req.providerId, hostName: host.name };
  // Inside, `ctx` is the lease holder's: each of its writes checks the lease is still held (fencing).
  return await withProviderLock(
    ctx,
    key,
    "import",
    async (ctx) => {
      progress({ phase: "plan", message: "previewing against the host" });
      const { plan, internals } = await buildPlan(ctx, req);
      if (options.expectedFingerprint && options.expectedFingerprint !== plan.fingerprint) {
        throw conflict("PLAN_STALE", "the host or the key list changed since the preview", {
          hint: "Preview again and review the new plan.",
        });
      }
      const edited = options.reviewedPlan === undefined ? undefined : editedAt(options.reviewedPlan, plan);
      if (edited !== undefined) {
        throw invalidInput(
          "PLAN_EDITED",
          `the plan file was edited: ${edited} is not what its fingerprint binds`,
          {
            hint: hint`A plan file is applied as ${act.providerPreview("--out")} wrote it, or not at all: preview again.`,
          },
        );
      }
      if (plan.blocked && plan.no_usable_key && plan.blocked_reasons.length === 1) {
        throw invalidInput("NO_USABLE_KEY", "no key in the list can be imported", {
          details: { keys: plan.keys.map((k) => ({ key: k.key, line: k.line, reason: k.reason })) },
          hint: "Every key is malformed for this provider or conflicts with an account relay does not manage; fix the key list.",
        });
      }
      if (plan.blocked) {
        throw conflict("IMPORT_BLOCKED", `the import cannot run: ${plan.blocked_reasons.join("; ")}`, {
          details: { plan },
          hint: hint`Run ${act.providerPreview(`${plan.provider_id} --host ${host.name} --keys-file FILE --mode ${req.mode}`)} to see each conflict.`,
        });
      }
      await refuseDisallowedBaseUrl(internals, plan);
      const started = Date.now();
      const result = await runSaga(sagaContext(ctx, req, plan, internals, options));
      ctx.metrics.imports.inc({ status: result.status });
      for (const [cls, n] of Object.entries(result.triage.counts))
        ctx.metrics.keys.set({ host: host.name, provider: req.providerId, class: cls }, n);
      ctx.metrics.importSeconds.observe((Date.now() - started) / 1000);
      return result;
    },
    ctx.config.leaseMs,
  );
}

function sagaContext(
  ctx: AppContext,
  req: ImportRequest,
  plan: ImportPlan,
  internals: PlanInternals,
  options: ImportOptions,
): SagaContext {
  const batchId = `b_${ctx.clock().toISOString().slice(0, 10).replace(/-/g, "")}_${randomBytes(5).toString("hex")}`;
  return {
    ctx,
    req,
    options,
    progress: options.onProgress ?? (() => {}),
    internals,
    plan,
    planned: new Map(plan.keys.map((k) => [k.position, k])),
    gen: plan.generation,
    batchId,
    tag: ownershipTag(ctx.installId, internals.def.provider_id, batchId),
    created: { group_id: null, channel_id: null, plan_id: null, account_ids: [] },
    subscriptions: plan.subscriptions.map((x) => ({
      user_id: x.user_id,
      status: PLANNED[x.action],
      reason: x.action === "create" ? "not reached" : x.reason,
    })),
    warnings: [...plan.warnings],
  };
}

/** A subscription target's line in the answer before step 6 runs (a create is then filled in). */
const PLANNED: Record<Action, SubscriptionOutcome["status"]> = {
  reuse: "already_subscribed",
  create: "skipped",
  skip: "skipped",
  conflict: "failed",
};

async function runSaga(s: SagaContext): Promise<ImportResult> {
  const { ctx, req, plan, internals } = s;
  await ensureInstall(ctx, internals.host.id, internals.def.provider_id);
  await openBatch(ctx, req, plan, internals, s.batchId);
  s.options.onBatchOpened?.(s.batchId);
  try {
    await precheckKeys(s);
    const groupId = await groupStep(s);
    await channelStep(s, groupId);
    await planStep(s, groupId);
    await provisionAccounts(s, groupId);
    const statuses = await itemStatuses(ctx, s.batchId);
    const working = [...statuses.values()].filter((x) => x === "tested" || x === "reused").length;
    if (working === 0) throw new StepFailed("accounts", "no account works");
    await subscriptionsStep(s, groupId);
    return await finishImport(s);
  } catch (err) {
    // Lost the lease: recovery owns the batch now; not one more write, not one more host call.
    if (err instanceof AppError && err.code === "LEASE_LOST") throw err;
    await failImport(s, err);
    if (!(err instanceof StepFailed) && !isHostError(err) && !(err instanceof AppError)) throw err;
    return await importResult(s);
  }
}

/**
 * Step 6: subscriptions for the requested users. A user the host refuses is reported per user;
 * strict mode stops (and rolls back), partial mode keeps the working accounts.
 */
async function subscriptionsStep(s: SagaContext, groupId: number): Promise<void> {
  const subs = s.plan.subscriptions.filter((x) => x.action === "create");
  const report = (userId: number, status: SubscriptionOutcome["status"], reason: string) => {
    const line = s.subscriptions.find((x) => x.user_id === userId);
    if (line) Object.assign(line, { status, reason });
  };
  // One bulk call per validity: the usual case (every target with the same days) is one call.
  const byDays = new Map<number, typeof subs>();
  for (const sub of subs) byDays.set(sub.validity_days, [...(byDays.get(sub.validity_days) ?? []), sub]);
  let done = 0;
  for (const [days, targets] of byDays) {
    s.progress({
      phase: "subscriptions",
      message: `${targets.length} user(s), ${days} days`,
      done,
      total: subs.length,
    });
    let outcomes: Map<number, GrantOutcome>;
    try {
      outcomes = await assignManyAndRecord(
        s.ctx,
        s.internals.adapter,
        targets.map((sub) => ({
          hostId: s.internals.host.id,
          providerId: s.internals.def.provider_id,
          batchId: s.batchId,
          groupId,
          userId: sub.user_id,
          validityDays: days,
          logicalKey: logicalKey(s.gen, "subscription", String(sub.user_id)),
          name: `user-${sub.user_id}`,
        })),
      );
    } catch (err) {
      throw new StepFailed("subscriptions", describe(err));
    }
    done += targets.length;
    for (const sub of targets) {
      const outcome = outcomes.get(sub.user_id) as GrantOutcome;
      if (outcome.action === "created") {
        report(sub.user_id, "assigned", `subscription #${outcome.subscriptionId}`);
        continue;
      }
      report(sub.user_id, "failed", outcome.reason);
      const msg = `subscription for user ${sub.user_id}: ${outcome.reason}`;
      if (s.req.mode === "strict") throw new StepFailed("subscriptions", msg);
      s.warnings.push(msg);
    }
  }
}

async function finishImport(s: SagaContext): Promise<ImportResult> {
  const { ctx, internals, batchId } = s;
  const counts = { working: 0, failed: 0, skipped: 0 };
  for (const x of (await itemStatuses(ctx, batchId)).values()) {
    if (x === "tested" || x === "reused") counts.working += 1;
    else if (x === "failed") counts.failed += 1;
    else if (x === "skipped") counts.skipped += 1;
  }
  const finished = {
    kind: "import_finished" as const,
    ...counts,
    refusedSubscriptions: s.subscriptions.filter((x) => x.status === "failed").length,
  };
  const unproven = await advanceBatch(ctx, batchId, finished, {
    summary: { ...s.plan.summary, ...counts },
  });
  await refreshProviderState(ctx, internals.host.id, internals.def.provider_id);
  await appendEvent(ctx, {
    kind: "import_finished",
    message: unproven.reason,
    batchId,
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
  });
  let access: AccessState | undefined;
  let final = unproven;
  if (s.req.accessMode) {
    // The closure: a real end-user call through the host; the provider becomes active only if it works.
    s.progress({ phase: "done", message: "proving access through the gateway" });
    try {
      const proof = await runAccessProbe(ctx, {
        hostRef: internals.host.id,
        providerId: internals.def.provider_id,
        batchId,
      });
      access = proof.access_state;
      if (proof.evidence.probe_user_created === true)
        s.warnings.push(
          `relay created its probe user ${String(proof.evidence.probe_user)} on host ${internals.host.name} to prove access (see \`relay host show ${internals.host.name}\`)`,
        );
      final = await advanceBatch(ctx, batchId, { ...finished, access });
    } catch (err) {
      s.warnings.push(`access probe failed: ${describe(err)}`);
    }
  }
  s.progress({ phase: "done", message: final.reason });
  return await importResult(s, access);
}

/** Any failure: the batch is failed and rolled back; the provider's status says why. */
async function failImport(s: SagaContext, err: unknown): Promise<void> {
  const { ctx, internals, batchId } = s;
  const why = err instanceof StepFailed ? err.message : `unexpected failure: ${describe(err)}`;
  await appendEvent(ctx, {
    kind: "import_failed",
    message: why,
    batchId,
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
  });
  await advanceBatch(ctx, batchId, { kind: "import_failed", why });
  s.progress({ phase: "rollback", message: `rolling back: ${why}` });
  try {
    await rollbackUnlocked(ctx, batchId, `import failed (${why}); rolled back`);
  } catch (rollbackErr) {
    s.warnings.push(`rollback incomplete: ${describe(rollbackErr)}`);
  }
  await refreshProviderState(ctx, internals.host.id, internals.def.provider_id);
}
