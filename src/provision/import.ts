import { randomBytes } from "node:crypto";
import { runAccessProbe } from "../access/probe.js";
import { AppError, conflict } from "../domain/errors.js";
import { type CreateAccountInput, type HostAccount, isHostError } from "../host/sub2api/index.js";
import type { AppContext } from "../services/context.js";
import { nowIso } from "../services/context.js";
import { findHost } from "../services/hosts.js";
import { acquireLock, currentOwner, providerLockName, releaseLock, renewLock } from "../store/locks.js";
import { importBatches, importBatchItems } from "../store/schema.js";
import { stmt } from "../store/statements.js";
import { chunk, mapLimit } from "../util/concurrency.js";
import { type BatchStatus, getBatchRow, setBatchStatus, setItem } from "./batches.js";
import type { IntakeKey } from "./keys.js";
import { idempotencyKey, logicalKey, ownershipTag } from "./naming.js";
import { buildPlan, type ImportPlan, type ImportRequest, type PlanInternals } from "./preview.js";
import {
  appendEvent,
  ensureInstall,
  findResource,
  getInstall,
  type Intent,
  type ResourceRow,
  recordIntent,
  recordIntents,
  setProviderStatus,
  updateResource,
} from "./records.js";
import { LOCK_TTL_MS, rollbackBatch } from "./rollback.js";

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

/** Thrown inside the saga to stop it; carries the step and the host's reason. */
class StepFailed extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
  }
}

const describe = (err: unknown) =>
  isHostError(err) ? `${err.machineCode}: ${err.message}` : (err as Error).message;

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
  const { host, def, mapping, adapter, caps } = internals;
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

    // 4. accounts
    const toCreate: { key: IntakeKey; row: ResourceRow }[] = [];
    const intents: (Intent & { key: IntakeKey })[] = [];
    for (const key of internals.keys) {
      const p = planned.get(key.position);
      if (!p) continue;
      const lk = logicalKey(gen, "account", key.hash);
      if (p.action === "reuse") {
        adopt(
          ctx,
          host.id,
          def.provider_id,
          batchId,
          "account",
          lk,
          p.account_name,
          p.host_resource_id as number,
          key.hash,
        );
        setItem(ctx, batchId, key.hash, { status: "reused", result: { account_id: p.host_resource_id } });
      } else if (p.action === "create") {
        const stale = internals.records.get(`account|${lk}`);
        if (stale && ["created", "reused"].includes(stale.state))
          updateResource(ctx, stale.id, { state: "gone" });
        intents.push({
          ...intent(host.id, def.provider_id, batchId, "account", lk, p.account_name),
          rawKeyHash: key.hash,
          idempotencyKey: idempotencyKey(host.id, "account.create", `${lk}:${batchId}`),
          key,
        });
      }
    }
    // All intents in one transaction, before any account is sent to the host.
    const recordedRows = recordIntents(ctx, intents);
    for (const i of intents)
      toCreate.push({ key: i.key, row: recordedRows.get(i.logicalKey) as ResourceRow });
    const input = (key: IntakeKey, name: string): CreateAccountInput => ({
      name,
      notes: tag,
      platform: mapping.platform,
      apiKey: key.secret,
      baseUrl: mapping.baseUrl,
      ...(mapping.apiProtocol ? { apiProtocol: mapping.apiProtocol } : {}),
      ...(mapping.accountMode ? { accountMode: mapping.accountMode } : {}),
      modelMapping: mapping.modelMapping,
      ...(Object.keys(mapping.extra).length > 0 ? { extra: mapping.extra } : {}),
      concurrency: def.account_defaults.concurrency,
      priority: def.account_defaults.priority,
      groupIds: [groupId as number],
    });
    const accountFailed = (key: IntakeKey, row: ResourceRow, code: string, message: string) => {
      updateResource(ctx, row.id, { state: "failed" });
      setItem(ctx, batchId, key.hash, { status: "failed", errorCode: code, errorMessage: message });
      progress({ phase: "accounts", message: `${key.mask}: ${message}` });
      if (req.mode === "strict") throw new StepFailed("account create", `${key.mask}: ${message}`);
    };
    const hostIds = new Map<number, number>();
    const accountCreated = (key: IntakeKey, row: ResourceRow, id: number) => {
      hostIds.set(row.id, id);
      updateResource(ctx, row.id, { hostResourceId: id, state: "created" });
      setItem(ctx, batchId, key.hash, { status: "created", result: { account_id: id } });
      created.account_ids.push(id);
    };
    let done = 0;
    const perAccount = async ({ key, row }: { key: IntakeKey; row: ResourceRow }) => {
      try {
        const a = await adapter.createAccount(input(key, row.name), row.idempotencyKey);
        accountCreated(key, row, a.id);
      } catch (err) {
        if (err instanceof StepFailed) throw err;
        if (
          isHostError(err) &&
          (err.kind === "network" || err.kind === "timeout" || (err.status ?? 0) >= 500)
        ) {
          throw new StepFailed("account create", describe(err));
        }
        accountFailed(key, row, isHostError(err) ? err.machineCode : "ERROR", describe(err));
      }
      done += 1;
      progress({ phase: "accounts", message: `created ${key.mask}`, done, total: toCreate.length });
    };
    if (caps.batch_create) {
      for (const part of chunk(toCreate, options.chunkSize ?? 50)) {
        const batchKey = idempotencyKey(host.id, "account.batch", part.map((p) => p.row.name).join(","));
        const result = await step("account create", () =>
          adapter.createAccountsBatch(
            part.map((p) => input(p.key, p.row.name)),
            batchKey,
          ),
        );
        let leftovers = part;
        if (!result.verified) {
          // Dec 2025 builds answer without creating anything: check by listing, create the rest one by one.
          const listed = new Map<string, HostAccount>();
          for (const a of await step("account verify", () =>
            adapter.listAccounts({ search: `${def.provider_id}-` }),
          ))
            listed.set(a.name, a);
          leftovers = [];
          for (const p of part) {
            const a = listed.get(p.row.name);
            if (a) accountCreated(p.key, p.row, a.id);
            else leftovers.push(p);
          }
          if (leftovers.length > 0)
            warnings.push("the host's batch create created nothing; accounts were created one by one");
          for (const p of leftovers) await perAccount(p);
          continue;
        }
        const byName = new Map(result.results.map((x) => [x.name, x]));
        ctx.db.$client.transaction(() => {
          for (const p of part) {
            const r = byName.get(p.row.name);
            if (r?.success && r.id !== undefined) accountCreated(p.key, p.row, r.id);
            else accountFailed(p.key, p.row, "ACCOUNT_CREATE_FAILED", r?.error ?? "no result from host");
            done += 1;
          }
        })();
        progress({
          phase: "accounts",
          message: `created ${done}/${toCreate.length}`,
          done,
          total: toCreate.length,
        });
      }
    } else {
      await mapLimit(toCreate, 4, perAccount);
    }

    // 5. test every new account with the smoke model, then read its models
    const fresh = toCreate.filter(({ row }) => hostIds.has(row.id));
    let tested = 0;
    const recordTest = (
      row: ResourceRow,
      id: number,
      ok: boolean,
      error: string | undefined,
      latency: number | null,
    ) =>
      stmt(
        ctx.db.$client,
        `INSERT INTO probe_results (host_id, provider_id, batch_id, kind, resource_id, success, error_code, message,
           model, latency_ms, detail, created_at) VALUES (?, ?, ?, 'account_test', ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        host.id,
        def.provider_id,
        batchId,
        row.id,
        ok ? 1 : 0,
        ok ? null : "ACCOUNT_TEST_FAILED",
        ok ? null : (error ?? null),
        def.smoke_test_model,
        latency,
        JSON.stringify({ account_id: id }),
        nowIso(ctx),
      );
    // Test evidence is written in transactions of up to 32 keys: one commit per key would cost
    // more CPU than the calls themselves. A crash loses at most the unflushed results, and
    // recovery then treats those accounts as untested (it removes them).
    let evidence: (() => void)[] = [];
    const flushEvidence = () => {
      const pending = evidence;
      evidence = [];
      if (pending.length > 0)
        ctx.db.$client.transaction(() => {
          for (const write of pending) write();
        })();
    };
    const queueEvidence = (write: () => void) => {
      evidence.push(write);
      if (evidence.length >= 32) flushEvidence();
    };
    await mapLimit(fresh, options.testConcurrency ?? 4, async ({ key, row }) => {
      const id = hostIds.get(row.id) as number;
      let ok = false;
      let error: string | undefined;
      let latency: number | null = null;
      try {
        const t = await adapter.testAccount(id, def.smoke_test_model);
        ok = t.success;
        error = t.error;
        latency = t.latencyMs;
      } catch (err) {
        error = describe(err);
      }
      tested += 1;
      progress({
        phase: "test",
        message: `${key.mask}: ${ok ? "ok" : `failed (${error})`}`,
        done: tested,
        total: fresh.length,
      });
      if (!ok) {
        queueEvidence(() => {
          recordTest(row, id, false, error, latency);
          setItem(ctx, batchId, key.hash, {
            status: "failed",
            errorCode: "ACCOUNT_TEST_FAILED",
            errorMessage: error ?? "test failed",
          });
        });
        if (req.mode === "strict") {
          flushEvidence();
          throw new StepFailed("account test", `${key.mask}: ${error}`);
        }
        return;
      }
      let models: string[] = [];
      try {
        models = caps.models_sync ? await adapter.syncAccountModels(id) : await adapter.listAccountModels(id);
      } catch (err) {
        warnings.push(`models of ${key.mask} could not be read: ${describe(err)}`);
      }
      queueEvidence(() => {
        recordTest(row, id, true, undefined, latency);
        setItem(ctx, batchId, key.hash, { status: "tested", result: { models } });
      });
    }).finally(flushEvidence);

    // partial mode: accounts that failed their test are removed; only what works stays.
    const failedTests = fresh.filter(({ key }) => itemStatus(ctx, batchId, key.hash) === "failed");
    for (const { row } of failedTests) {
      const id = hostIds.get(row.id);
      if (id === undefined) continue;
      try {
        await adapter.deleteAccount(id);
        updateResource(ctx, row.id, { state: "deleted" });
        created.account_ids = created.account_ids.filter((x) => x !== id);
      } catch (err) {
        warnings.push(`failed account #${id} could not be removed: ${describe(err)}`);
      }
    }

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

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StepFailed(name, describe(err));
  }
}

function intent(
  hostId: string,
  providerId: string,
  batchId: string,
  type: ResourceRow["resourceType"],
  lk: string,
  name: string,
) {
  return {
    hostId,
    providerId,
    batchId,
    type: type as "group",
    logicalKey: lk,
    name,
    idempotencyKey: idempotencyKey(hostId, `${type}.create`, `${lk}:${batchId}`),
  };
}

/**
 * A reused resource: a live record stays as it is; an orphan left by a crashed batch (on the host,
 * with our tag, not recorded as live) is recorded as created by this batch so rollback covers it.
 */
function adopt(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  batchId: string,
  type: ResourceRow["resourceType"],
  lk: string,
  name: string,
  hostResourceId: number,
  hash?: string,
) {
  const existing = findResource(ctx, hostId, providerId, type as "group", lk);
  if (
    existing &&
    ["created", "reused"].includes(existing.state) &&
    existing.hostResourceId === hostResourceId
  )
    return;
  const row = recordIntent(ctx, {
    ...intent(hostId, providerId, batchId, type, lk, name),
    ...(hash ? { rawKeyHash: hash } : {}),
  });
  updateResource(ctx, row.id, { hostResourceId, state: "created" });
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

function itemStatus(ctx: AppContext, batchId: string, hash: string): string | undefined {
  const row = stmt(
    ctx.db.$client,
    "SELECT status FROM import_batch_items WHERE batch_id = ? AND raw_key_hash = ?",
  ).get(batchId, hash);
  return (row as { status: string } | undefined)?.status;
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
