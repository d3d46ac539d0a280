import type { AppContext } from "../app/context.js";
import type { Finding, Observed } from "../domain/drift.js";
import { idempotencyKey, logicalKey, nameMarker, parseOwnership } from "../domain/naming.js";
import { summaryOfKeys } from "../domain/plan.js";
import type { ResourceType } from "../domain/resources.js";
import { advanceBatch } from "../steps/batch-status.js";
import { type BatchRow, getBatchRow, insertBatch } from "../store/batches.js";
import { nowIso } from "../store/db.js";
import { appendEvent } from "../store/events.js";
import { refreshProviderState } from "../store/installs.js";
import { getProviderDefinition } from "../store/packs.js";
import { recordIntent, updateResource } from "../store/resources.js";

/**
 * After the documented restore of an older database (#29 R9), what this installation made after
 * the backup is on the host with its ownership tag — this install, this provider, a batch — while
 * the records know nothing of that batch. Such an `unexpected` finding is marked (`field: "batch"`,
 * `actual`: the batch id), so `--heal` can adopt it (heal action `adopt_restored`): the batch is
 * recorded again under its own id (its tag then matches, so drift compares the description it
 * carries), as `succeeded` with no keys and `options.restored`, and each resource is recorded as
 * created by it. `relay batch rollback <batch>` then deletes them — the operator's other choice.
 * Only the tag decides: an object with this install's name and no tag (or another install's, or a
 * batch relay does hold) stays a plain finding.
 */
export async function markRestored(
  ctx: AppContext,
  where: { hostId: string; providerId: string; observed: Observed; tagOf: TagOf },
  findings: Finding[],
  named: (f: Finding) => boolean,
): Promise<void> {
  for (const f of findings) {
    if (f.kind !== "unexpected" || f.healed || f.host_resource_id === null || named(f)) continue;
    const t = parseOwnership(where.tagOf(where.observed, f.resource_type, f.host_resource_id));
    if (!t || t.installId !== ctx.installId || t.providerId !== where.providerId) continue;
    const batch = await findBatch(ctx, t.batchId);
    if (batch && batch.options.restored !== true) continue;
    f.field = "batch";
    f.expected = null;
    f.actual = t.batchId;
    f.message = `${f.resource_type} ${f.name} (#${f.host_resource_id}) was made by this installation in batch ${t.batchId}, which relay's records do not hold (the database restored from an older backup?): --heal adopts it into that batch again, and \`relay batch rollback ${t.batchId}\` then deletes it`;
  }
}

export type TagOf = (observed: Observed, type: string, id: number) => string | undefined;

async function findBatch(ctx: AppContext, id: string): Promise<BatchRow | undefined> {
  try {
    return await getBatchRow(ctx, id);
  } catch {
    return undefined;
  }
}

/** `--heal` for the marked findings: each batch recorded again, each resource recorded as its own. */
export async function adoptRestored(
  ctx: AppContext,
  where: { hostId: string; providerId: string },
  findings: Finding[],
): Promise<string[]> {
  const byBatch = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.kind !== "unexpected" || f.field !== "batch" || f.healed || typeof f.actual !== "string") continue;
    byBatch.set(f.actual, [...(byBatch.get(f.actual) ?? []), f]);
  }
  const done: string[] = [];
  for (const [batchId, items] of byBatch) {
    if (!(await findBatch(ctx, batchId))) {
      const { packVersion } = await getProviderDefinition(ctx, where.providerId);
      await insertBatch(ctx, restoredBatch(ctx, batchId, where, packVersion), []);
      // No resource recorded yet: a crash here leaves an empty batch for recovery, never a deletion.
      await advanceBatch(ctx, batchId, { kind: "restored_adopted", batchId });
    }
    for (const f of items) {
      const id = f.host_resource_id as number;
      const type = f.resource_type as ResourceType;
      const row = await recordIntent(ctx, {
        ...where,
        batchId,
        type,
        logicalKey: logicalKey(nameMarker(f.name)?.generation ?? 1, type, `restored-${id}`),
        name: f.name,
        idempotencyKey: idempotencyKey(where.hostId, `${type}.adopt`, `${id}:${batchId}`),
      });
      await updateResource(ctx, row.id, { hostResourceId: id, state: "created" });
      f.healed = true;
      f.message = `${f.resource_type} ${f.name} (#${id}) adopted into batch ${batchId} again (made after the backup the database was restored from)`;
      done.push(f.message);
    }
    await appendEvent(ctx, {
      kind: "recovery",
      message: `${items.length} resource(s) of batch ${batchId} adopted after a database restore`,
      batchId,
      ...where,
    });
  }
  if (done.length > 0) await refreshProviderState(ctx, where.hostId, where.providerId);
  return done;
}

function restoredBatch(
  ctx: AppContext,
  id: string,
  where: { hostId: string; providerId: string },
  packVersion: string,
) {
  return {
    id,
    ...where,
    packVersion,
    mode: "partial" as const,
    accessMode: null,
    planFingerprint: null,
    options: { restored: true },
    keyCount: 0,
    summary: summaryOfKeys(),
    startedAt: nowIso(ctx),
  };
}
