import { and, desc, eq, inArray, ne } from "drizzle-orm";
import { notFound } from "../domain/errors.js";
import type { BatchSummary } from "../domain/plan.js";
import type { ItemStatus } from "../domain/resources.js";
import { type BatchStatus, FINAL_BATCH_STATUSES } from "../domain/status.js";
import { nowIso, type StoreContext, storeKind } from "./db.js";
import { batchResources } from "./resources.js";
import { events, hosts, importBatches, importBatchItems, managedResources, probeResults } from "./schema.js";
import { stmt } from "./statements.js";

export type BatchRow = typeof importBatches.$inferSelect;
export type ItemRow = typeof importBatchItems.$inferSelect;

export interface ItemSeed {
  position: number;
  hash: string;
  mask: string;
  status: ItemStatus;
  errorCode: string | null;
  errorMessage: string | null;
  accountName: string | undefined;
  /** The key's line in the key file, kept so that a failure can be found again there. */
  line?: number | undefined;
}

export type NewBatch = Pick<
  BatchRow,
  | "id"
  | "hostId"
  | "providerId"
  | "packVersion"
  | "mode"
  | "accessMode"
  | "planFingerprint"
  | "options"
  | "keyCount"
  | "summary"
  | "startedAt"
>;

/** A batch, already `running`, and its items, in one transaction before any host write. */
export function insertBatch(s: StoreContext, batch: NewBatch, items: ItemSeed[]): void {
  const now = nowIso(s);
  s.db.transaction((tx) => {
    tx.insert(importBatches)
      .values({ ...batch, status: "running", statusReason: "import running", createdAt: now, updatedAt: now })
      .run();
    for (const i of items) {
      stmt(
        s.db.$client,
        `INSERT INTO import_batch_items (batch_id, position, raw_key_hash, key_mask, status, error_code, error_message, result, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        batch.id,
        i.position,
        i.hash,
        i.mask,
        i.status,
        i.errorCode,
        i.errorMessage,
        JSON.stringify({ account_name: i.accountName, ...(i.line ? { line: i.line } : {}) }),
        now,
      );
    }
  });
}

/** Batches a crash left half-way, oldest first. */
export function unfinishedBatches(s: StoreContext): BatchRow[] {
  return s.db
    .select()
    .from(importBatches)
    .where(inArray(importBatches.status, ["pending", "previewed", "running", "rollback_running"]))
    .orderBy(importBatches.createdAt)
    .all();
}

/**
 * Finished batches (not rolled back) holding a create that was never settled: host writes are made
 * for a batch after it finished — the access proof's probe subscription and key, `relay access
 * assign`, a heal — and a process that died between one and its record left it `create_pending`.
 * Oldest first.
 */
export function batchesWithPendingCreates(s: StoreContext): BatchRow[] {
  const pending = s.db
    .select({ batchId: managedResources.batchId })
    .from(managedResources)
    .where(eq(managedResources.state, "create_pending"));
  return s.db
    .select()
    .from(importBatches)
    .where(
      and(
        inArray(importBatches.status, ["succeeded", "partially_succeeded", "failed"]),
        inArray(importBatches.id, pending),
      ),
    )
    .orderBy(importBatches.createdAt)
    .all();
}

export function listItems(s: StoreContext, batchId: string): ItemRow[] {
  return s.db
    .select()
    .from(importBatchItems)
    .where(eq(importBatchItems.batchId, batchId))
    .orderBy(importBatchItems.position)
    .all();
}

/** key hash → status of every item of a batch, in one query. */
export function itemStatuses(s: StoreContext, batchId: string): Map<string, ItemStatus> {
  const rows = stmt(
    s.db.$client,
    "SELECT raw_key_hash, status FROM import_batch_items WHERE batch_id = ?",
  ).all(batchId) as { raw_key_hash: string; status: ItemStatus }[];
  return new Map(rows.map((r) => [r.raw_key_hash, r.status]));
}

/** After a complete rollback every key that was not skipped reads `rolled_back`. */
export function markItemsRolledBack(s: StoreContext, batchId: string): void {
  s.db
    .update(importBatchItems)
    .set({ status: "rolled_back" })
    .where(and(eq(importBatchItems.batchId, batchId), ne(importBatchItems.status, "skipped")))
    .run();
}

export function getBatchRow(s: StoreContext, batchId: string): BatchRow {
  const row = s.db.select().from(importBatches).where(eq(importBatches.id, batchId)).get();
  if (!row)
    throw notFound("BATCH_NOT_FOUND", `no import batch "${batchId}"`, {
      hint: "List batches with `relay batch list`.",
    });
  return row;
}

export function setBatchStatus(
  s: StoreContext,
  batchId: string,
  status: BatchStatus,
  reason: string,
  extra: Partial<BatchRow> = {},
) {
  const now = nowIso(s);
  // A rollback later does not move the end of the import: `duration_ms` stays the import's own.
  const final = FINAL_BATCH_STATUSES.includes(status) && status !== "rolled_back";
  s.db
    .update(importBatches)
    .set({ status, statusReason: reason, updatedAt: now, ...(final ? { finishedAt: now } : {}), ...extra })
    .where(eq(importBatches.id, batchId))
    .run();
}

export function setItem(
  s: StoreContext,
  batchId: string,
  hash: string,
  patch: {
    status?: ItemStatus;
    errorCode?: string | null;
    errorMessage?: string | null;
    result?: Record<string, unknown>;
  },
) {
  // One call per key during an import: a cached statement; `result` is merged (top-level keys).
  const merge =
    storeKind(s.db) === "postgres" ? "(result::jsonb || ?::jsonb)::text" : "json_patch(result, ?)";
  stmt(
    s.db.$client,
    `UPDATE import_batch_items SET status = coalesce(?, status),
       error_code = CASE WHEN ? = 1 THEN ? ELSE error_code END,
       error_message = CASE WHEN ? = 1 THEN ? ELSE error_message END,
       result = ${merge}, updated_at = ?
     WHERE batch_id = ? AND raw_key_hash = ?`,
  ).run(
    patch.status ?? null,
    patch.errorCode !== undefined ? 1 : 0,
    patch.errorCode ?? null,
    patch.errorMessage !== undefined ? 1 : 0,
    patch.errorMessage ?? null,
    JSON.stringify(patch.result ?? {}),
    nowIso(s),
    batchId,
    hash,
  );
}

export interface BatchView {
  batch_id: string;
  host_id: string;
  /** The host's name as registered (its id when the host has since been removed). */
  host_name: string;
  provider_id: string;
  pack_version: string;
  mode: string;
  access_mode: string | null;
  status: BatchStatus;
  status_reason: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  summary: BatchSummary;
  keys: {
    position: number;
    key: string;
    status: string;
    error_code: string | null;
    error: string | null;
    result: Record<string, unknown>;
  }[];
  resources: { type: string; name: string; host_resource_id: number | null; state: string; origin: string }[];
  probes: {
    kind: string;
    success: boolean;
    model: string | null;
    error_code: string | null;
    message: string | null;
    latency_ms: number | null;
    at: string;
  }[];
  events: { at: string; kind: string; message: string }[];
}

export function getBatch(s: StoreContext, batchId: string): BatchView {
  const b = getBatchRow(s, batchId);
  const items = listItems(s, batchId);
  const probes = s.db
    .select()
    .from(probeResults)
    .where(eq(probeResults.batchId, batchId))
    .orderBy(probeResults.id)
    .all();
  const log = s.db.select().from(events).where(eq(events.batchId, batchId)).orderBy(events.id).all();
  return {
    batch_id: b.id,
    host_id: b.hostId,
    host_name:
      s.db.select({ name: hosts.name }).from(hosts).where(eq(hosts.id, b.hostId)).get()?.name ?? b.hostId,
    provider_id: b.providerId,
    pack_version: b.packVersion,
    mode: b.mode,
    access_mode: b.accessMode,
    status: b.status,
    status_reason: b.statusReason,
    created_at: b.createdAt,
    started_at: b.startedAt,
    finished_at: b.finishedAt,
    duration_ms: b.startedAt && b.finishedAt ? Date.parse(b.finishedAt) - Date.parse(b.startedAt) : null,
    summary: b.summary,
    keys: items.map((i) => ({
      position: i.position,
      key: i.keyMask,
      status: i.status,
      error_code: i.errorCode,
      error: i.errorMessage,
      result: i.result,
    })),
    resources: batchResources(s, batchId).map((r) => ({
      type: r.resourceType,
      name: r.name,
      host_resource_id: r.hostResourceId,
      state: r.state,
      origin: r.origin,
    })),
    probes: probes.map((p) => ({
      kind: p.kind,
      success: p.success,
      model: p.model,
      error_code: p.errorCode,
      message: p.message,
      latency_ms: p.latencyMs,
      at: p.createdAt,
    })),
    events: log.map((e) => ({ at: e.at, kind: e.kind, message: e.message })),
  };
}

export interface BatchSummaryView {
  batch_id: string;
  host_id: string;
  host_name: string;
  provider_id: string;
  mode: string;
  status: BatchStatus;
  status_reason: string;
  keys: number;
  created_at: string;
  finished_at: string | null;
}

export function listBatches(
  s: StoreContext,
  filter: { providerId?: string; hostId?: string } = {},
): BatchSummaryView[] {
  const conditions = [
    ...(filter.providerId ? [eq(importBatches.providerId, filter.providerId)] : []),
    ...(filter.hostId ? [eq(importBatches.hostId, filter.hostId)] : []),
  ];
  const names = new Map(
    s.db
      .select({ id: hosts.id, name: hosts.name })
      .from(hosts)
      .all()
      .map((h) => [h.id, h.name]),
  );
  return s.db
    .select()
    .from(importBatches)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(importBatches.createdAt), desc(importBatches.id))
    .all()
    .map((b) => ({
      batch_id: b.id,
      host_id: b.hostId,
      host_name: names.get(b.hostId) ?? b.hostId,
      provider_id: b.providerId,
      mode: b.mode,
      status: b.status,
      status_reason: b.statusReason,
      keys: b.keyCount,
      created_at: b.createdAt,
      finished_at: b.finishedAt,
    }));
}
