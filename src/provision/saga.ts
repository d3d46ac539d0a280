import type { AppContext } from "../app/context.js";
import { idempotencyKey } from "../domain/naming.js";
import { isHostError } from "../host/sub2api/index.js";
import {
  findResource,
  type Intent,
  type ResourceType,
  recordIntent,
  updateResource,
} from "../store/resources.js";
import { stmt } from "../store/statements.js";
import type { ImportOptions, ImportResult, ProgressEvent } from "./import.js";
import type { ImportPlan, ImportRequest, PlanInternals, PlannedKey } from "./preview.js";

/** What every step of one import saga shares. */
export interface SagaContext {
  ctx: AppContext;
  req: ImportRequest;
  options: ImportOptions;
  progress: (e: ProgressEvent) => void;
  internals: PlanInternals;
  planned: Map<number, PlannedKey>;
  gen: number;
  batchId: string;
  tag: string;
  created: ImportResult["created"];
  warnings: string[];
}

export type { ImportPlan };

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

export function intent(
  hostId: string,
  providerId: string,
  batchId: string,
  type: ResourceType,
  lk: string,
  name: string,
): Intent {
  return {
    hostId,
    providerId,
    batchId,
    type,
    logicalKey: lk,
    name,
    idempotencyKey: idempotencyKey(hostId, `${type}.create`, `${lk}:${batchId}`),
  };
}

/**
 * A reused resource: a live record stays as it is; an orphan left by a crashed batch (on the host,
 * with our tag, not recorded as live) is recorded as created by this batch so rollback covers it.
 */
export function adopt(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  batchId: string,
  type: ResourceType,
  lk: string,
  name: string,
  hostResourceId: number,
  hash?: string,
) {
  const existing = findResource(ctx, hostId, providerId, type, lk);
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

export function itemStatus(ctx: AppContext, batchId: string, hash: string): string | undefined {
  const row = stmt(
    ctx.db.$client,
    "SELECT status FROM import_batch_items WHERE batch_id = ? AND raw_key_hash = ?",
  ).get(batchId, hash);
  return (row as { status: string } | undefined)?.status;
}
