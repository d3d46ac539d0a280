import { randomBytes } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { AppError, conflict } from "../domain/errors.js";
import { logicalKey, ownershipTag } from "../domain/naming.js";
import { isHostError } from "../host/sub2api/index.js";
import { runAccessProbe } from "../steps/access-proof.js";
import { type BatchStatus, getBatchRow, setBatchStatus } from "../store/batches.js";
import { nowIso } from "../store/db.js";
import { findHost } from "../store/hosts.js";
import { acquireLock, currentOwner, providerLockName, releaseLock, renewLock } from "../store/locks.js";
import {
  appendEvent,
  ensureInstall,
  getInstall,
  recordIntent,
  setProviderStatus,
  updateResource,
} from "../store/resources.js";
import { importBatches } from "../store/schema.js";
import { stmt } from "../store/statements.js";
import { provisionAccounts } from "./accounts-step.js";
import { buildPlan, type ImportPlan, type ImportRequest, type PlanInternals } from "./preview.js";
import { LOCK_TTL_MS, rollbackBatch } from "./rollback.js";
import { adopt, describe, intent, itemStatus, StepFailed, step } from "./saga.js";

export interface ProgressEvent {
  phase:
    | "plan"
    | "group"
    | "channel"
    | "plan_resource"
    | "accounts"
    | "test"
    | "subscriptions"
    | "rollback"
    | "done";
  message: string;
  done?: number;
  total?: number;
}

export interface ImportOptions {
  /** Account tests in flight at once (default 4). */
  testConcurrency?: number;
  /** Accounts per batch-create call (default 50). */
  chunkSize?: number;
  /** Refuse to run when the host changed since the preview that produced this fingerprint. */
  expectedFingerprint?: string;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ImportResult {
  batch_id: string;
  status: BatchStatus;
  status_reason: string;
  provider_status: string;
  access_closure_status: string;
  created: {
    group_id: number | null;
    channel_id: number | null;
    plan_id: number | null;
    account_ids: number[];
  };
  keys: {
    key: string;
    status: string;
    account_id: number | null;
    error_code: string | null;
    error: string | null;
  }[];
  summary: { working: number; failed: number; reused: number; skipped: number };
  warnings: string[];
}

/**
 * Import keys as a saga (design §5): every host write is recorded as intended before it is sent and
 * completed after; a failure in strict mode rolls the batch back; partial mode keeps what works.
 * One import per (host, provider) at a time.
 */
export async function importKeys(
  ctx: AppContext,
  req: ImportRequest,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const progress = options.onProgress ?? (() => {});
  const probeHost = findHost(ctx, req.hostRef);
  const lockName = providerLockName(probeHost.id, req.providerId);
  const owner = currentOwner("import");
  const lock = acquireLock(ctx.db, lockName, owner, LOCK_TTL_MS, ctx.clock());
  if (!lock.ok) {
    throw new AppError(
      "conflict",
      "IMPORT_IN_PROGRESS",
      `an import, rollback or reconcile of ${req.providerId} on ${probeHost.name} is already running`,
      {
        details: { lock_expires_at: lock.held.expiresAt },
        hint: "Wait for it to finish (see `relay batch list`) and run the import again.",
      },
    );
  }
  const heartbeat = setInterval(
    () => renewLock(ctx.db, lockName, owner, LOCK_TTL_MS, ctx.clock()),
    LOCK_TTL_MS / 4,
  );
  heartbeat.unref();
  try {
    progress({ phase: "plan", message: "previewing against the host" });
    const { plan, internals } = await buildPlan(ctx, req);
    if (options.expectedFingerprint && options.expectedFingerprint !== plan.fingerprint) {
      throw conflict("PLAN_STALE", "the host or the key list changed since the preview", {
        hint: "Preview again and review the new plan.",
      });
    }
    if (plan.blocked) {
      throw conflict("IMPORT_BLOCKED", `the import cannot run: ${plan.blocked_reasons.join("; ")}`, {
        details: { plan },
        hint: "Run `relay provider preview` to see each conflict.",
      });
    }
    return await runSaga(ctx, req, plan, internals, options, progress);
  } finally {
    clearInterval(heartbeat);
    releaseLock(ctx.db, lockName, owner);
  }
}

async function runSaga(
  ctx: AppContext,
  req: ImportRequest,
  plan: ImportPlan,
  internals: PlanInternals,
  options: ImportOptions,
  progress: (e: ProgressEvent) => void,
): Promise<ImportResult> {
  const { host, def, mapping, adapter } = internals;
  const gen = plan.generation;
  const batchId = `b_${ctx.clock().toISOString().slice(0, 10).replace(/-/g, "")}_${randomBytes(5).toString("hex")}`;
  const tag = ownershipTag(def.provider_id, batchId);
  const now = nowIso(ctx);
  const planned = new Map(plan.keys.map((k) => [k.position, k]));

  ensureInstall(ctx, host.id, def.provider_id);
  ctx.db.transaction((tx) => {
    tx.insert(importBatches)
      .values({
        id: batchId,
        hostId: host.id,
        providerId: def.provider_id,
        packVersion: plan.pack_version,
        mode: req.mode,
        accessMode: req.accessMode ?? null,
        status: "pending",
        statusReason: "",
        planFingerprint: plan.fingerprint,
        options: { with_plan: req.withPlan === true, subscribe: req.subscribe ?? [], generation: gen },
        keyCount: plan.keys.length,
        summary: plan.summary,
        createdAt: now,
        updatedAt: now,
      })
      .run();
    for (const k of internals.keys) {
      const p = planned.get(k.position);
      const skipped = p?.action === "skip" || p?.action === "conflict";
      stmt(
        ctx.db.$client,
        `INSERT INTO import_batch_items (batch_id, position, raw_key_hash, key_mask, status, error_code, error_message, result, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        batchId,
        k.position,
        k.hash,
        k.mask,
        skipped ? "skipped" : "pending",
        skipped ? (p?.action === "conflict" ? "ACCOUNT_NAME_CONFLICT" : "KEY_PATTERN_MISMATCH") : null,
        skipped ? (p?.reason ?? null) : null,
        JSON.stringify({ account_name: p?.account_name }),
        now,
      );
    }
  });
  setBatchStatus(ctx, batchId, "previewed", "plan recorded");
  setBatchStatus(ctx, batchId, "running", "import running", { startedAt: nowIso(ctx) });
  appendEvent(ctx, {
    kind: "import_started",
    message: `${req.mode} import of ${plan.keys.length} key(s)`,
    batchId,
    hostId: host.id,
    providerId: def.provider_id,
  });

  const created: ImportResult["created"] = {
    group_id: null,
    channel_id: null,
    plan_id: null,
    account_ids: [],
  };
  const warnings = [...plan.warnings];
  let groupId: number | undefined;
  try {
    // 1. group
    progress({ phase: "group", message: "group" });
    const groupPlan = plan.resources.find((r) => r.type === "group");
    if (groupPlan?.action === "reuse") {
      groupId = groupPlan.host_resource_id as number;
      adopt(
        ctx,
        host.id,
        def.provider_id,
        batchId,
        "group",
        logicalKey(gen, "group"),
        groupPlan.name,
        groupId,
      );
    } else {
      const row = recordIntent(
        ctx,
        intent(host.id, def.provider_id, batchId, "group", logicalKey(gen, "group"), groupPlan?.name ?? ""),
      );
      const g = await step("group", () =>
        adapter.createGroup({
          name: row.name,
          description: tag,
          platform: mapping.platform,
          subscriptionType: def.group_defaults.subscription_type,
          rateMultiplier: def.group_defaults.rate_multiplier,
          isExclusive: def.group_defaults.is_exclusive,
          ...limits(def.group_defaults),
        }),
      );
      updateResource(ctx, row.id, {
        hostResourceId: g.id,
        state: "created",
        attrs: { platform: g.platform, subscription_type: g.subscriptionType },
      });
      groupId = g.id;
      created.group_id = g.id;
    }

    // 2. channel (pricing overlay) and 3. plan (storefront item)
    const channelPlan = plan.resources.find((r) => r.type === "channel");
    if (channelPlan?.action === "create") {
      progress({ phase: "channel", message: "channel" });
      const row = recordIntent(
        ctx,
        intent(host.id, def.provider_id, batchId, "channel", logicalKey(gen, "channel"), channelPlan.name),
      );
      const ch = await step("channel", () =>
        adapter.createChannel({
          name: row.name,
          description: tag,
          groupIds: [groupId as number],
          modelPricing: mapping.pricing,
        }),
      );
      updateResource(ctx, row.id, {
        hostResourceId: ch.id,
        state: "created",
        attrs: { group_ids: ch.groupIds },
      });
      created.channel_id = ch.id;
    } else if (channelPlan?.action === "reuse") {
      adopt(
        ctx,
        host.id,
        def.provider_id,
        batchId,
        "channel",
        logicalKey(gen, "channel"),
        channelPlan.name,
        channelPlan.host_resource_id as number,
      );
    }
    const planPlan = plan.resources.find((r) => r.type === "plan");
    if (planPlan?.action === "create" && def.plan) {
      progress({ phase: "plan_resource", message: "payment plan" });
      const row = recordIntent(
        ctx,
        intent(host.id, def.provider_id, batchId, "plan", logicalKey(gen, "plan"), planPlan.name),
      );
      const p = await step("plan", () =>
        adapter.createPlan({
          groupId: groupId as number,
          name: row.name,
          description: tag,
          price: def.plan?.price ?? 0,
          currency: def.plan?.currency,
          validityDays: def.plan?.validity_days ?? 30,
        }),
      );
      updateResource(ctx, row.id, { hostResourceId: p.id, state: "created" });
      created.plan_id = p.id;
    } else if (planPlan?.action === "reuse") {
      adopt(
        ctx,
        host.id,
        def.provider_id,
        batchId,
        "plan",
        logicalKey(gen, "plan"),
        planPlan.name,
        planPlan.host_resource_id as number,
      );
    }

    // 4. accounts, 5. their tests and model lists (partial mode removes the failing ones)
    await provisionAccounts(
      { ctx, req, options, progress, internals, planned, gen, batchId, tag, created, warnings },
      groupId as number,
    );

    const working = internals.keys.filter((k) =>
      ["tested", "reused"].includes(itemStatus(ctx, batchId, k.hash) ?? ""),
    ).length;
    if (working === 0) throw new StepFailed("accounts", "no account works");

    // 6. subscriptions for the requested users
    const subs = plan.subscriptions.filter((s) => s.action === "create");
    for (const [i, s] of subs.entries()) {
      progress({ phase: "subscriptions", message: `user ${s.user_id}`, done: i + 1, total: subs.length });
      const row = recordIntent(ctx, {
        ...intent(
          host.id,
          def.provider_id,
          batchId,
          "subscription",
          logicalKey(gen, "subscription", String(s.user_id)),
          `user-${s.user_id}`,
        ),
        attrs: { user_id: s.user_id, group_id: groupId, validity_days: s.validity_days },
      });
      const outcome = await step("subscriptions", () =>
        adapter.assignSubscription({
          userId: s.user_id,
          groupId: groupId as number,
          validityDays: s.validity_days,
          notes: tag,
        }),
      );
      if (outcome.kind === "assigned") {
        updateResource(ctx, row.id, { hostResourceId: outcome.subscription.id, state: "created" });
      } else {
        updateResource(ctx, row.id, { state: "failed" });
        const msg = `subscription for user ${s.user_id}: ${outcome.code} (${outcome.reason})`;
        if (req.mode === "strict") throw new StepFailed("subscriptions", msg);
        warnings.push(msg);
      }
    }

    // 7. final status
    const failed = internals.keys.filter((k) => itemStatus(ctx, batchId, k.hash) === "failed").length;
    const skipped = internals.keys.filter((k) => itemStatus(ctx, batchId, k.hash) === "skipped").length;
    const status: BatchStatus = failed + skipped > 0 ? "partially_succeeded" : "succeeded";
    const reason = `${working} working account(s)${failed > 0 ? `, ${failed} failed` : ""}${skipped > 0 ? `, ${skipped} skipped` : ""}; access not verified yet`;
    setBatchStatus(ctx, batchId, status, reason, { summary: { ...plan.summary, working, failed, skipped } });
    setProviderStatus(
      ctx,
      host.id,
      def.provider_id,
      "installed",
      `${working} working account(s); access not verified`,
    );
    appendEvent(ctx, {
      kind: "import_finished",
      message: reason,
      batchId,
      hostId: host.id,
      providerId: def.provider_id,
    });
    let access: string | undefined;
    if (req.accessMode) {
      // The closure: a real end-user call through the host; the provider becomes active only if it works.
      progress({ phase: "done", message: "proving access through the gateway" });
      try {
        access = (await runAccessProbe(ctx, { hostRef: host.id, providerId: def.provider_id, batchId }))
          .access_state;
        setBatchStatus(ctx, batchId, status, reason.replace("access not verified yet", `access ${access}`));
      } catch (err) {
        warnings.push(`access probe failed: ${describe(err)}`);
      }
    }
    progress({ phase: "done", message: reason });
    return result(ctx, batchId, host.id, def.provider_id, created, warnings, access);
  } catch (err) {
    const why = err instanceof StepFailed ? err.message : `unexpected failure: ${describe(err)}`;
    appendEvent(ctx, {
      kind: "import_failed",
      message: why,
      batchId,
      hostId: host.id,
      providerId: def.provider_id,
    });
    setBatchStatus(ctx, batchId, "failed", why);
    progress({ phase: "rollback", message: `rolling back: ${why}` });
    try {
      await rollbackBatch(ctx, batchId, { lockHeld: true, reason: `import failed (${why}); rolled back` });
      if (
        !getInstall(ctx, host.id, def.provider_id) ||
        getInstall(ctx, host.id, def.provider_id)?.status === "validated"
      ) {
        setProviderStatus(ctx, host.id, def.provider_id, "failed", `last import failed: ${why}`);
      }
    } catch (rollbackErr) {
      warnings.push(`rollback incomplete: ${describe(rollbackErr)}`);
    }
    if (!(err instanceof StepFailed) && !isHostError(err) && !(err instanceof AppError)) throw err;
    return result(ctx, batchId, host.id, def.provider_id, created, warnings);
  }
}

function limits(g: {
  daily_limit_usd?: number | null;
  weekly_limit_usd?: number | null;
  monthly_limit_usd?: number | null;
}) {
  return {
    ...(g.daily_limit_usd !== undefined ? { dailyLimitUsd: g.daily_limit_usd } : {}),
    ...(g.weekly_limit_usd !== undefined ? { weeklyLimitUsd: g.weekly_limit_usd } : {}),
    ...(g.monthly_limit_usd !== undefined ? { monthlyLimitUsd: g.monthly_limit_usd } : {}),
  };
}

function result(
  ctx: AppContext,
  batchId: string,
  hostId: string,
  providerId: string,
  created: ImportResult["created"],
  warnings: string[],
  access?: string,
): ImportResult {
  const batch = getBatchRow(ctx, batchId);
  const items = ctx.db.$client
    .prepare(
      "SELECT key_mask, status, error_code, error_message, result FROM import_batch_items WHERE batch_id = ? ORDER BY position",
    )
    .all(batchId) as {
    key_mask: string;
    status: string;
    error_code: string | null;
    error_message: string | null;
    result: string;
  }[];
  const keys = items.map((i) => ({
    key: i.key_mask,
    status: i.status,
    account_id: (JSON.parse(i.result) as { account_id?: number }).account_id ?? null,
    error_code: i.error_code,
    error: i.error_message,
  }));
  const rolledBack = batch.status === "rolled_back" || batch.status === "failed";
  return {
    batch_id: batchId,
    status: batch.status as BatchStatus,
    status_reason: batch.statusReason,
    provider_status: getInstall(ctx, hostId, providerId)?.status ?? "validated",
    access_closure_status: access ?? "not_verified",
    created: rolledBack ? { group_id: null, channel_id: null, plan_id: null, account_ids: [] } : created,
    keys,
    summary: {
      working: keys.filter((k) => ["tested", "reused"].includes(k.status)).length,
      failed: keys.filter((k) => k.status === "failed").length,
      reused: keys.filter((k) => k.status === "reused").length,
      skipped: keys.filter((k) => k.status === "skipped").length,
    },
    warnings,
  };
}
