import { notFound } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import type { BatchSummary } from "../domain/plan.js";
import type { ItemStatus } from "../domain/resources.js";
import { type BatchStatus, FINAL_BATCH_STATUSES } from "../domain/status.js";
import { inTransaction, nowIso, type StoreContext, write } from "./db.js";
import { mappingChanges } from "./mapping-changes.js";
import { batchResources } from "./resources.js";
import type { BatchKind, Row } from "./schema.js";

export type BatchRow = Row<"import_batches">;
export type ItemRow = Row<"import_batch_items">;

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
  /** More of the item's result from the start (a rotation's account and old key fingerprint). */
  extra?: Record<string, unknown>;
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
> & { kind?: BatchKind };

const RUNNING_REASON: Record<BatchKind, string> = {
  import: "import running",
  rotation: "rotation running",
  model_migration: "model migration running",
};

/** A batch, already `running`, and its items, in one transaction before any host write. */
export async function insertBatch(s: StoreContext, batch: NewBatch, items: ItemSeed[]): Promise<void> {
  const now = nowIso(s);
  await inTransaction(s, async ({ db: { q } }) => {
    await q
      .insertInto("import_batches")
      .values({
        ...batch,
        status: "running",
        statusReason: RUNNING_REASON[batch.kind ?? "import"],
        createdAt: now,
        updatedAt: now,
      })
      .execute();
    // A few hundred rows a statement: one round trip for a batch of keys, not one per key.
    for (let at = 0; at < items.length; at += ITEMS_PER_INSERT) {
      await q
        .insertInto("import_batch_items")
        .values(
          items.slice(at, at + ITEMS_PER_INSERT).map((i) => ({
            batchId: batch.id,
            position: i.position,
            rawKeyHash: i.hash,
            keyMask: i.mask,
            status: i.status,
            errorCode: i.errorCode,
            errorMessage: i.errorMessage,
            result: {
              ...i.extra,
              ...(i.accountName === undefined ? {} : { account_name: i.accountName }),
              ...(i.line ? { line: i.line } : {}),
            },
            updatedAt: now,
          })),
        )
        .execute();
    }
  });
}

/** SQLite binds at most 32,766 values a statement; 9 columns × 500 rows stays far below. */
const ITEMS_PER_INSERT = 500;

/** Batches a crash left half-way, oldest first. */
export function unfinishedBatches(s: StoreContext): Promise<BatchRow[]> {
  return s.db.q
    .selectFrom("import_batches")
    .selectAll()
    .where("status", "in", ["pending", "previewed", "running", "rollback_running"])
    .orderBy("createdAt")
    .execute();
}

/**
 * Finished batches (not rolled back) holding a create that was never settled: host writes are made
 * for a batch after it finished — the access proof's probe subscription and key, `relay access
 * assign`, a heal — and a process that died between one and its record left it `create_pending`.
 * Oldest first.
 */
export function batchesWithPendingCreates(s: StoreContext): Promise<BatchRow[]> {
  return s.db.q
    .selectFrom("import_batches")
    .selectAll()
    .where("status", "in", ["succeeded", "partially_succeeded", "failed"])
    .where("id", "in", (eb) =>
      eb
        .selectFrom("managed_resources")
        .select("batchId")
        .where("state", "=", "create_pending")
        .where("batchId", "is not", null)
        .$narrowType<{ batchId: string }>(),
    )
    .orderBy("createdAt")
    .execute();
}

export function listItems(s: StoreContext, batchId: string): Promise<ItemRow[]> {
  return s.db.q
    .selectFrom("import_batch_items")
    .selectAll()
    .where("batchId", "=", batchId)
    .orderBy("position")
    .execute();
}

/** key hash → status of every item of a batch, in one query. */
export async function itemStatuses(s: StoreContext, batchId: string): Promise<Map<string, ItemStatus>> {
  const rows = await s.db.q
    .selectFrom("import_batch_items")
    .select(["rawKeyHash", "status"])
    .where("batchId", "=", batchId)
    .execute();
  return new Map(rows.map((r) => [r.rawKeyHash, r.status]));
}

/** After a complete rollback every key that was not skipped reads `rolled_back`. */
export async function markItemsRolledBack(s: StoreContext, batchId: string): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("import_batch_items")
      .set({ status: "rolled_back" })
      .where("batchId", "=", batchId)
      .where("status", "!=", "skipped")
      .execute(),
  );
}

export async function getBatchRow(s: StoreContext, batchId: string): Promise<BatchRow> {
  const row = await s.db.q
    .selectFrom("import_batches")
    .selectAll()
    .where("id", "=", batchId)
    .executeTakeFirst();
  if (!row)
    throw notFound("BATCH_NOT_FOUND", `no import batch "${batchId}"`, {
      hint: hint`List batches with ${act.batchList()}.`,
    });
  return row;
}

export async function setBatchStatus(
  s: StoreContext,
  batchId: string,
  status: BatchStatus,
  reason: string,
  extra: Partial<BatchRow> = {},
): Promise<void> {
  const now = nowIso(s);
  // A rollback later does not move the end of the import: `duration_ms` stays the import's own.
  const final = FINAL_BATCH_STATUSES.includes(status) && status !== "rolled_back";
  await write(s, (q) =>
    q
      .updateTable("import_batches")
      .set({ status, statusReason: reason, updatedAt: now, ...(final ? { finishedAt: now } : {}), ...extra })
      .where("id", "=", batchId)
      .execute(),
  );
}

export interface BatchView {
  batch_id: string;
  host_id: string;
  /** The host's name as registered (its id when the host has since been removed). */
  host_name: string;
  provider_id: string;
  pack_version: string;
  /**
   * `import`, `rotation` (key rotation in place: its keys are new keys, one per account) or
   * `model_migration` (no keys: what it changed is `changes`).
   */
  kind: BatchKind;
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
  /** A model migration's mapping changes, one per account or channel (empty for other kinds). */
  changes: {
    target: "account" | "channel";
    host_resource_id: number;
    name: string;
    aliases: { from: string; to: string }[];
    state: string;
    error: string | null;
  }[];
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

export async function getBatch(s: StoreContext, batchId: string): Promise<BatchView> {
  const b = await getBatchRow(s, batchId);
  const items = await listItems(s, batchId);
  const probes = await s.db.q
    .selectFrom("probe_results")
    .selectAll()
    .where("batchId", "=", batchId)
    .orderBy("id")
    .execute();
  const log = await s.db.q
    .selectFrom("events")
    .selectAll()
    .where("batchId", "=", batchId)
    .orderBy("id")
    .execute();
  const resources = await batchResources(s, batchId);
  const host = await s.db.q.selectFrom("hosts").select("name").where("id", "=", b.hostId).executeTakeFirst();
  const changes = b.kind === "model_migration" ? await mappingChanges(s, batchId) : [];
  return {
    batch_id: b.id,
    host_id: b.hostId,
    host_name: host?.name ?? b.hostId,
    provider_id: b.providerId,
    pack_version: b.packVersion,
    kind: b.kind,
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
    resources: resources.map((r) => ({
      type: r.resourceType,
      name: r.name,
      host_resource_id: r.hostResourceId,
      state: r.state,
      origin: r.origin,
    })),
    changes: changes.map((c) => ({
      target: c.target,
      host_resource_id: c.hostResourceId,
      name: c.name,
      aliases: c.aliases,
      state: c.state,
      error: c.error,
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
  kind: BatchKind;
  mode: string;
  status: BatchStatus;
  status_reason: string;
  /** Keys the batch was given (0 for a model migration). */
  keys: number;
  /** A model migration: the accounts and channels whose mapping it changes; null for other kinds. */
  changes: number | null;
  created_at: string;
  finished_at: string | null;
}

export async function listBatches(
  s: StoreContext,
  filter: { providerId?: string; hostId?: string } = {},
): Promise<BatchSummaryView[]> {
  let query = s.db.q.selectFrom("import_batches").selectAll();
  if (filter.providerId) query = query.where("providerId", "=", filter.providerId);
  if (filter.hostId) query = query.where("hostId", "=", filter.hostId);
  const rows = await query.orderBy("createdAt", "desc").orderBy("id", "desc").execute();
  const hosts = await s.db.q.selectFrom("hosts").select(["id", "name"]).execute();
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const counted = await s.db.q
    .selectFrom("mapping_changes")
    .select(["batchId", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("batchId")
    .execute();
  const changed = new Map(counted.map((c) => [c.batchId, Number(c.n)]));
  return rows.map((b) => ({
    batch_id: b.id,
    host_id: b.hostId,
    host_name: names.get(b.hostId) ?? b.hostId,
    provider_id: b.providerId,
    kind: b.kind,
    mode: b.mode,
    status: b.status,
    status_reason: b.statusReason,
    keys: b.keyCount,
    changes: b.kind === "model_migration" ? (changed.get(b.id) ?? 0) : null,
    created_at: b.createdAt,
    finished_at: b.finishedAt,
  }));
}
