import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { type ChannelPrice, sameMapping, shows } from "../domain/model-migration.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { advanceBatch, beginRollback } from "../steps/batch-status.js";
import { type BatchRow, type BatchView, getBatch } from "../store/batches.js";
import { appendEvent } from "../store/events.js";
import { refreshProviderState } from "../store/installs.js";
import { type MappingChangeRow, mappingChanges, setMappingChange } from "../store/mapping-changes.js";

/** The kind of a batch `relay provider migrate` made (`import_batches.kind`, since migration 0008). */
export const MIGRATION_KIND = "model_migration";

/** A batch `relay provider migrate` made: its rollback restores mappings instead of deleting. */
export function isMigrationBatch(batch: Pick<BatchRow, "kind">): boolean {
  return batch.kind === MIGRATION_KIND;
}

/** What a rollback of a migration batch would put back (its dry run): read from the records only. */
export async function restorePlan(ctx: AppContext, batchId: string) {
  return (await mappingChanges(ctx, batchId))
    .filter((r) => UNDO.includes(r.state))
    .map((r) => ({
      type: r.target,
      name: r.name,
      host_resource_id: r.hostResourceId,
      model_mapping: (r.mappingBefore.model_mapping ?? {}) as Record<string, unknown>,
      ...(Array.isArray(r.mappingBefore.model_pricing)
        ? { model_pricing: r.mappingBefore.model_pricing }
        : {}),
    }));
}

/** States in which the host may show the migration's mapping: the ones a rollback undoes. */
const UNDO: readonly string[] = ["pending", "applied", "restore_pending", "failed"];

/**
 * Rolls a migration back: each account and channel it changed gets its previous model_mapping
 * again, read from the host first. Accounts get PUT credentials with the previous model_mapping and
 * the other non-sensitive fields as the host shows them now (the key is kept by the host's merge).
 * A resource whose mapping someone changed since (neither the migration's nor the previous one) is
 * left as it is and named. Resumable: a failed write leaves the batch `failed`; run it again.
 */
export async function restoreMigration(
  ctx: AppContext,
  batchId: string,
  reason: string,
  onProgress?: (message: string) => void,
): Promise<BatchView> {
  const { batch, host, where } = await beginRollback(ctx, batchId, reason);
  const adapter = await hostAdapterFor(ctx, host);
  const rows = (await mappingChanges(ctx, batchId)).filter((r) => UNDO.includes(r.state));
  // Channels first: the alias leaves the group's channel before the accounts lose theirs.
  rows.sort((a, b) => (a.target === b.target ? a.id - b.id : a.target === "channel" ? -1 : 1));
  const failures: string[] = [];
  const left: string[] = [];
  for (const row of rows) {
    onProgress?.(`restoring ${row.target} ${row.name}`);
    try {
      const outcome = await restoreOne(ctx, adapter, row);
      if (outcome !== "restored") left.push(`${row.target} ${row.name} (${outcome})`);
    } catch (err) {
      failures.push(`${row.target} ${row.name}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) {
    const why = (await advanceBatch(ctx, batchId, { kind: "rollback_incomplete", failures })).reason;
    await refreshProviderState(ctx, host.id, batch.providerId);
    await appendEvent(ctx, { kind: "rollback_failed", message: why, ...where });
    throw new AppError("host_rejected", "ROLLBACK_INCOMPLETE", why, {
      hint: hint`Run ${act.batchRollback(batchId)} again once the host is healthy.`,
    });
  }
  const done = left.length > 0 ? `${reason}; left as found: ${left.join(", ")}` : reason;
  await advanceBatch(ctx, batchId, { kind: "rollback_done", reason: done });
  await refreshProviderState(ctx, host.id, batch.providerId);
  await appendEvent(ctx, {
    kind: "rolled_back",
    message: `restored the previous model mapping on ${rows.length - left.length} resource(s)`,
    ...where,
  });
  return await getBatch(ctx, batchId);
}

async function restoreOne(
  ctx: AppContext,
  adapter: HostAdapter,
  row: MappingChangeRow,
): Promise<"restored" | "gone from the host" | "changed on the host since the migration"> {
  const before = row.mappingBefore.model_mapping ?? {};
  const after = row.mappingAfter.model_mapping ?? {};
  const leave = async (why: "gone from the host" | "changed on the host since the migration") => {
    await setMappingChange(ctx, row.id, "left", why);
    return why;
  };
  if (row.target === "account") {
    const a = (await adapter.listAccounts()).find((x) => x.id === row.hostResourceId);
    if (!a) return leave("gone from the host");
    const now = a.modelMapping ?? {};
    if (!sameMapping(now, before)) {
      if (!sameMapping(now, after)) return leave("changed on the host since the migration");
      await setMappingChange(ctx, row.id, "restore_pending");
      const shown = await adapter.updateAccountCredentials(a.id, {
        ...a.credentialFields,
        model_mapping: before,
      });
      if (!sameMapping(shown.modelMapping ?? {}, before))
        throw new Error("the host answered with another model_mapping");
    }
  } else {
    const ch = (await adapter.listChannels()).find((c) => c.id === row.hostResourceId);
    if (!ch) return leave("gone from the host");
    // The mapping and, when the migration recorded it, the pricing: both back, or neither touched.
    const now = { model_mapping: ch.modelMapping, model_pricing: ch.modelPricing };
    if (!shows(now, row.mappingBefore)) {
      if (!shows(now, row.mappingAfter)) return leave("changed on the host since the migration");
      await setMappingChange(ctx, row.id, "restore_pending");
      const mapping = before as Record<string, Record<string, string>>;
      const pricing = row.mappingBefore.model_pricing as ChannelPrice[] | undefined;
      const shown = await adapter.updateChannelModelMapping(ch.id, mapping, pricing);
      if (!shows({ model_mapping: shown.modelMapping, model_pricing: shown.modelPricing }, row.mappingBefore))
        throw new Error("the host answered with another model_mapping or pricing");
    }
  }
  await setMappingChange(ctx, row.id, "restored");
  return "restored";
}
