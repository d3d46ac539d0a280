import type { AppContext } from "../app/context.js";
import { idempotencyKey } from "../domain/naming.js";
import type { PlannedKey } from "../domain/plan.js";
import type { ResourceType } from "../domain/resources.js";
import { isHostError } from "../host/sub2api/index.js";
import { getBatchRow, type ItemSeed, insertBatch, listItems } from "../store/batches.js";
import { nowIso } from "../store/db.js";
import { appendEvent } from "../store/events.js";
import { getInstall } from "../store/installs.js";
import { findResource, type Intent, recordIntent, updateResource } from "../store/resources.js";
import { classCounts, recordedTriage, triageGroups } from "./triage.js";
import type {
  ImportOptions,
  ImportPlan,
  ImportRequest,
  ImportResult,
  PlanInternals,
  ProgressEvent,
  SubscriptionOutcome,
} from "./types.js";

/** What every step of one import saga shares. */
export interface SagaContext {
  ctx: AppContext;
  req: ImportRequest;
  options: ImportOptions;
  progress: (e: ProgressEvent) => void;
  internals: PlanInternals;
  plan: ImportPlan;
  planned: Map<number, PlannedKey>;
  gen: number;
  batchId: string;
  tag: string;
  created: ImportResult["created"];
  subscriptions: SubscriptionOutcome[];
  warnings: string[];
}

/** Thrown inside the saga to stop it; carries the step and the host's reason. */
export class StepFailed extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
  }
}

export const describe = (err: unknown) =>
  isHostError(err) ? `${err.machineCode}: ${err.message}` : (err as Error).message;

export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StepFailed(name, describe(err));
  }
}

/** The intent of a create, recorded before the host call; its Idempotency-Key is stable across retries. */
export function intent(s: SagaContext, type: ResourceType, lk: string, name: string): Intent {
  return {
    hostId: s.internals.host.id,
    providerId: s.internals.def.provider_id,
    batchId: s.batchId,
    type,
    logicalKey: lk,
    name,
    idempotencyKey: idempotencyKey(s.internals.host.id, `${type}.create`, `${lk}:${s.batchId}`),
  };
}

/**
 * A reused resource: a live record stays as it is; an orphan left by a crashed batch (on the host,
 * with our tag, not recorded as live) is recorded as created by this batch so rollback covers it.
 */
export async function adopt(
  s: SagaContext,
  type: ResourceType,
  lk: string,
  name: string,
  hostResourceId: number,
  hash?: string,
) {
  const { ctx, internals } = s;
  const existing = await findResource(ctx, internals.host.id, internals.def.provider_id, type, lk);
  if (
    existing &&
    ["created", "reused"].includes(existing.state) &&
    existing.hostResourceId === hostResourceId
  )
    return;
  const row = await recordIntent(ctx, {
    ...intent(s, type, lk, name),
    ...(hash ? { rawKeyHash: hash } : {}),
  });
  await updateResource(ctx, row.id, { hostResourceId, state: "created" });
}

/** Records the batch and one item per key (skipped keys already final) before any host write. */
export async function openBatch(
  ctx: AppContext,
  req: ImportRequest,
  plan: ImportPlan,
  internals: PlanInternals,
  batchId: string,
): Promise<void> {
  const planned = new Map(plan.keys.map((k) => [k.position, k]));
  const items: ItemSeed[] = internals.keys.map((k) => {
    const p = planned.get(k.position);
    const skipped = p?.action === "skip" || p?.action === "conflict";
    return {
      position: k.position,
      hash: k.hash,
      mask: k.mask,
      status: skipped ? "skipped" : "pending",
      errorCode: skipped
        ? p?.action === "conflict"
          ? "ACCOUNT_NAME_CONFLICT"
          : "KEY_PATTERN_MISMATCH"
        : null,
      errorMessage: skipped ? (p?.reason ?? null) : null,
      accountName: p?.account_name,
      line: p?.line,
    };
  });
  await insertBatch(
    ctx,
    {
      id: batchId,
      hostId: internals.host.id,
      providerId: internals.def.provider_id,
      packVersion: plan.pack_version,
      mode: req.mode,
      accessMode: req.accessMode ?? null,
      planFingerprint: plan.fingerprint,
      options: {
        with_plan: req.withPlan === true,
        subscribe: req.subscribe ?? [],
        generation: plan.generation,
      },
      keyCount: plan.keys.length,
      summary: plan.summary,
      startedAt: nowIso(ctx),
    },
    items,
  );
  await appendEvent(ctx, {
    kind: "import_started",
    message: `${req.mode} import of ${plan.keys.length} key(s)`,
    batchId,
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
  });
}

/** The answer of an import, read back from what was recorded. */
export async function importResult(
  s: SagaContext,
  access?: ImportResult["access_closure_status"],
): Promise<ImportResult> {
  const { ctx, batchId, internals } = s;
  const batch = await getBatchRow(ctx, batchId);
  const lines = new Map(s.plan.keys.map((k) => [k.position, k.line]));
  const keys = (await listItems(ctx, batchId)).map((i) => {
    const triage = recordedTriage(i.status, i.result);
    return {
      key: i.keyMask,
      line: lines.get(i.position) ?? null,
      status: i.status,
      account_id: (i.result as { account_id?: number }).account_id ?? null,
      error_code: i.errorCode,
      error: i.errorMessage,
      class: triage?.class ?? null,
      next_step: triage && triage.class !== "ready" ? triage.next_step : null,
      suggested_provider: triage?.suggested_provider ?? null,
      triage,
    };
  });
  const rolledBack = batch.status === "rolled_back" || batch.status === "failed";
  return {
    batch_id: batchId,
    status: batch.status,
    status_reason: batch.statusReason,
    provider_status:
      (await getInstall(ctx, internals.host.id, internals.def.provider_id))?.status ?? "validated",
    access_closure_status: access ?? "not_verified",
    created: rolledBack ? { group_id: null, channel_id: null, plan_id: null, account_ids: [] } : s.created,
    keys: keys.map(({ triage: _t, ...k }) => k),
    triage: {
      counts: classCounts(keys.map((k) => k.class)),
      groups: triageGroups(keys),
    },
    summary: {
      working: keys.filter((k) => ["tested", "reused"].includes(k.status)).length,
      failed: keys.filter((k) => k.status === "failed").length,
      reused: keys.filter((k) => k.status === "reused").length,
      skipped: keys.filter((k) => k.status === "skipped").length,
    },
    subscriptions: s.subscriptions,
    warnings: s.warnings,
  };
}
