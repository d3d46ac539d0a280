import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError, conflict } from "../domain/errors.js";
import { nameMarker, parseOwnership } from "../domain/naming.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import {
  type BatchView,
  getBatch,
  getBatchRow,
  markItemsRolledBack,
  setBatchStatus,
} from "../store/batches.js";
import { appendEvent } from "../store/events.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { bumpGeneration, refreshProviderState } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import { batchResources, liveResources, type ResourceRow, updateResource } from "../store/resources.js";

/** Reverse dependency order (design §7). */
const ORDER = ["subscription", "probe_key", "account", "plan", "channel", "group"] as const;
const UNDONE = ["create_pending", "created", "delete_pending", "failed"];

/**
 * Deletes, in reverse dependency order, only what this batch created; tolerates resources already
 * gone; resumable. A failed delete leaves the batch `failed` (the provider then reads `drifted`);
 * running it again finishes the job.
 */
export async function rollbackBatch(
  ctx: AppContext,
  batchId: string,
  options: { reason?: string; onProgress?: (message: string) => void } = {},
): Promise<BatchView> {
  const batch = getBatchRow(ctx, batchId);
  if (batch.status === "rolled_back") return getBatch(ctx, batchId);
  const host = findHost(ctx, batch.hostId);
  const key = { hostId: host.id, providerId: batch.providerId, hostName: host.name };
  return withProviderLock(ctx, key, "rollback", async () => {
    refuseIfOthersDepend(ctx, batch.id, batch.hostId, batch.providerId);
    return rollbackUnlocked(ctx, batchId, options.reason ?? "rolled back on request", options.onProgress);
  });
}

/** The rollback itself, for callers that already hold the provider's lease (import, recovery). */
export async function rollbackUnlocked(
  ctx: AppContext,
  batchId: string,
  reason: string,
  onProgress?: (message: string) => void,
): Promise<BatchView> {
  const batch = getBatchRow(ctx, batchId);
  const host = findHost(ctx, batch.hostId);
  const where = { batchId, hostId: host.id, providerId: batch.providerId };
  setBatchStatus(ctx, batchId, "rollback_running", reason);
  appendEvent(ctx, { kind: "rollback_started", message: reason, ...where });
  const adapter = hostAdapterFor(ctx, host);
  const caps = latestCapabilities(ctx, host.id);
  const rows = batchResources(ctx, batchId).filter((r) => r.origin === "created" && UNDONE.includes(r.state));
  const failures: string[] = [];
  for (const type of ORDER) {
    const ofType = rows.filter((r) => r.resourceType === type);
    if (ofType.length === 0) continue;
    onProgress?.(`deleting ${ofType.length} ${type}(s)`);
    try {
      await deleteRows(ctx, adapter, caps.batch_delete, batchId, type, ofType, failures);
    } catch (err) {
      failures.push(`${type}: ${(err as Error).message}`);
    }
    // Never delete a parent while a child of this batch is still alive on the host.
    if (failures.length > 0) break;
  }
  if (failures.length > 0) {
    const why = `rollback incomplete: ${failures.join("; ")}`;
    setBatchStatus(ctx, batchId, "failed", why);
    refreshProviderState(ctx, host.id, batch.providerId);
    appendEvent(ctx, { kind: "rollback_failed", message: why, ...where });
    throw new AppError("host_rejected", "ROLLBACK_INCOMPLETE", why, {
      hint: `Run \`relay batch rollback ${batchId}\` again once the host is healthy.`,
    });
  }
  markItemsRolledBack(ctx, batchId);
  if (rows.some((r) => r.resourceType === "group")) bumpGeneration(ctx, host.id, batch.providerId);
  setBatchStatus(ctx, batchId, "rolled_back", reason);
  refreshProviderState(ctx, host.id, batch.providerId);
  appendEvent(ctx, { kind: "rolled_back", message: `rolled back ${rows.length} resource(s)`, ...where });
  return getBatch(ctx, batchId);
}

/** Rolling back a batch whose group other live batches' accounts sit in would strand them. */
function refuseIfOthersDepend(ctx: AppContext, batchId: string, hostId: string, providerId: string) {
  const mine = batchResources(ctx, batchId).filter(
    (r) =>
      ["group", "channel", "plan"].includes(r.resourceType) &&
      r.origin === "created" &&
      UNDONE.includes(r.state),
  );
  if (mine.length === 0) return;
  const generations = new Set(mine.map((r) => r.logicalKey.split(":")[0]));
  const dependents = liveResources(ctx, hostId, providerId).filter(
    (r) =>
      r.batchId !== batchId && r.resourceType === "account" && generations.has(r.logicalKey.split(":")[0]),
  );
  if (dependents.length > 0) {
    const others = [...new Set(dependents.map((r) => r.batchId))].join(", ");
    throw conflict(
      "DEPENDENT_BATCHES",
      `batch ${batchId} created the group that batches ${others} also use`,
      {
        hint: `Roll back ${others} first (newest first).`,
      },
    );
  }
}

async function deleteRows(
  ctx: AppContext,
  adapter: HostAdapter,
  batchDelete: boolean,
  batchId: string,
  type: string,
  rows: ResourceRow[],
  failures: string[],
) {
  // A row without a host id was being created when the process stopped: find it by name.
  for (const row of rows.filter((r) => r.hostResourceId === null)) {
    const id = await locateByName(adapter, type, row, batchId);
    if (id === undefined) updateResource(ctx, row.id, { state: "gone" });
    else updateResource(ctx, row.id, { hostResourceId: id, state: "delete_pending" });
  }
  const pending = batchResources(ctx, batchId).filter(
    (r) =>
      r.resourceType === type &&
      r.origin === "created" &&
      UNDONE.includes(r.state) &&
      r.hostResourceId !== null,
  );
  for (const r of pending) updateResource(ctx, r.id, { state: "delete_pending" });

  if (type === "account" && batchDelete && pending.length > 0) {
    for (let i = 0; i < pending.length; i += 100) {
      const slice = pending.slice(i, i + 100);
      const result = await adapter.deleteAccountsBatch(slice.map((r) => r.hostResourceId as number));
      const deleted = new Set(result.deletedIds);
      const failed = new Map(result.failed.map((f) => [f.id, f.error]));
      for (const r of slice) {
        const id = r.hostResourceId as number;
        const error = failed.get(id);
        if (deleted.has(id) || (error !== undefined && /not found/i.test(error)))
          updateResource(ctx, r.id, { state: "deleted" });
        else failures.push(`account ${r.name} (#${id}): ${error ?? "not deleted"}`);
      }
    }
    return;
  }
  for (const r of pending) {
    const id = r.hostResourceId as number;
    try {
      switch (type) {
        case "subscription":
          await adapter.revokeSubscription(id);
          break;
        case "account":
          await adapter.deleteAccount(id);
          break;
        case "plan":
          await adapter.deletePlan(id);
          break;
        case "channel":
          await adapter.deleteChannel(id);
          break;
        case "group":
          await adapter.deleteGroup(id);
          break;
        default:
          continue;
      }
      updateResource(ctx, r.id, { state: "deleted" });
    } catch (err) {
      failures.push(`${type} ${r.name} (#${id}): ${isHostError(err) ? err.message : String(err)}`);
    }
  }
}

async function locateByName(
  adapter: HostAdapter,
  type: string,
  row: ResourceRow,
  batchId: string,
): Promise<number | undefined> {
  const ours = (text: string | undefined) => parseOwnership(text)?.batchId === batchId;
  // The name carries the marker (install, provider, generation, key), so an exact match is ours
  // even on builds that drop the tag; a name from before markers also needs the tag.
  const same = (name: string, tag: string | undefined) =>
    name === row.name && (nameMarker(name) !== undefined || ours(tag));
  switch (type) {
    case "group":
      return (await adapter.listGroups({ search: row.name })).find((g) => same(g.name, g.description))?.id;
    case "channel":
      return (await adapter.listChannels({ search: row.name })).find((c) => same(c.name, c.description))?.id;
    case "plan":
      return (await adapter.listPlans()).find((p) => same(p.name, p.description))?.id;
    case "account":
      return (await adapter.listAccounts({ search: row.name })).find((a) => same(a.name, a.notes))?.id;
    case "subscription": {
      const attrs = row.attrs as { user_id?: number; group_id?: number };
      if (!attrs.user_id || !attrs.group_id) return undefined;
      const subs = await adapter.listSubscriptions({ userId: attrs.user_id, groupId: attrs.group_id });
      return subs.find((s) => s.status === "active" && ours(s.notes))?.id;
    }
    default:
      return undefined;
  }
}
