import { and, eq, inArray } from "drizzle-orm";
import { LIVE_STATES, type ResourceType } from "../domain/resources.js";
import { nowIso, type StoreContext } from "./db.js";
import { managedResources } from "./schema.js";
import { stmt } from "./statements.js";

export type { ResourceType };
export type ResourceRow = typeof managedResources.$inferSelect;

export interface Intent {
  hostId: string;
  providerId: string;
  batchId: string;
  type: ResourceType;
  logicalKey: string;
  name: string;
  idempotencyKey: string;
  rawKeyHash?: string;
  attrs?: Record<string, unknown>;
}

/**
 * Records the intent to create a resource before the host call (the saga's first half). A row
 * left behind by a rolled-back batch under the same logical key is taken over; a live one is
 * returned unchanged so the caller can reuse it.
 */
export function recordIntent(s: StoreContext, intent: Intent): ResourceRow {
  const now = nowIso(s);
  const existing = findResource(s, intent.hostId, intent.providerId, intent.type, intent.logicalKey);
  if (existing && LIVE_STATES.includes(existing.state)) return existing;
  const values = {
    batchId: intent.batchId,
    name: intent.name,
    hostResourceId: null,
    state: "create_pending" as const,
    origin: "created" as const,
    idempotencyKey: intent.idempotencyKey,
    rawKeyHash: intent.rawKeyHash ?? null,
    attrs: intent.attrs ?? {},
    updatedAt: now,
  };
  if (existing) {
    s.db.update(managedResources).set(values).where(eq(managedResources.id, existing.id)).run();
  } else {
    s.db
      .insert(managedResources)
      .values({
        ...values,
        hostId: intent.hostId,
        providerId: intent.providerId,
        resourceType: intent.type,
        logicalKey: intent.logicalKey,
        createdAt: now,
      })
      .run();
  }
  return findResource(s, intent.hostId, intent.providerId, intent.type, intent.logicalKey) as ResourceRow;
}

export function findResource(
  s: StoreContext,
  hostId: string,
  providerId: string,
  type: ResourceType,
  logicalKey: string,
) {
  return s.db
    .select()
    .from(managedResources)
    .where(
      and(
        eq(managedResources.hostId, hostId),
        eq(managedResources.providerId, providerId),
        eq(managedResources.resourceType, type),
        eq(managedResources.logicalKey, logicalKey),
      ),
    )
    .get();
}

export function updateResource(
  s: StoreContext,
  id: number,
  patch: Partial<Pick<ResourceRow, "state" | "hostResourceId" | "attrs" | "origin" | "batchId" | "name">>,
) {
  if (
    patch.attrs === undefined &&
    patch.origin === undefined &&
    patch.batchId === undefined &&
    patch.name === undefined
  ) {
    // Hot path (one per account): a cached statement instead of a freshly built query.
    stmt(
      s.db.$client,
      "UPDATE managed_resources SET state = coalesce(?, state), host_resource_id = coalesce(?, host_resource_id), updated_at = ? WHERE id = ?",
    ).run(patch.state ?? null, patch.hostResourceId ?? null, nowIso(s), id);
    return;
  }
  s.db
    .update(managedResources)
    .set({ ...patch, updatedAt: nowIso(s) })
    .where(eq(managedResources.id, id))
    .run();
}

/**
 * Settles a create whose answer was lost from what the host shows: found (`hostResourceId`) →
 * `created`, not found → `gone`. Only while the record is still `create_pending`: a process that
 * is still making it (the access verbs hold no lease) records its own answer, and that one stands.
 */
export function settlePendingCreate(s: StoreContext, id: number, hostResourceId: number | undefined) {
  stmt(
    s.db.$client,
    "UPDATE managed_resources SET state = ?, host_resource_id = ?, updated_at = ? WHERE id = ? AND state = 'create_pending'",
  ).run(hostResourceId === undefined ? "gone" : "created", hostResourceId ?? null, nowIso(s), id);
}

/** Every recorded resource of a provider on a host, by `type|logical_key`, in one query. */
export function resourceIndex(s: StoreContext, hostId: string, providerId: string): Map<string, ResourceRow> {
  const rows = s.db
    .select()
    .from(managedResources)
    .where(and(eq(managedResources.hostId, hostId), eq(managedResources.providerId, providerId)))
    .all();
  return new Map(rows.map((r) => [`${r.resourceType}|${r.logicalKey}`, r]));
}

/**
 * Records many intents in one transaction (the bulk form of recordIntent): new rows are inserted,
 * rows of rolled-back batches are taken over, live rows are left alone. Returns rows by logical key.
 */
export function recordIntents(s: StoreContext, intents: Intent[]): Map<string, ResourceRow> {
  const first = intents[0];
  if (!first) return new Map();
  const now = nowIso(s);
  const upsert = stmt(
    s.db.$client,
    `INSERT INTO managed_resources (host_id, provider_id, batch_id, resource_type, logical_key, name, host_resource_id,
       state, origin, idempotency_key, raw_key_hash, attrs, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, NULL, 'create_pending', 'created', ?, ?, '{}', ?, ?)
     ON CONFLICT (host_id, provider_id, resource_type, logical_key) DO UPDATE SET
       batch_id = excluded.batch_id, name = excluded.name, host_resource_id = NULL, state = 'create_pending',
       origin = 'created', idempotency_key = excluded.idempotency_key, raw_key_hash = excluded.raw_key_hash,
       attrs = '{}', updated_at = excluded.updated_at
     WHERE managed_resources.state NOT IN ('create_pending', 'created', 'reused', 'delete_pending')`,
  );
  s.db.$client.transaction(() => {
    for (const i of intents) {
      upsert.run(
        i.hostId,
        i.providerId,
        i.batchId,
        i.type,
        i.logicalKey,
        i.name,
        i.idempotencyKey,
        i.rawKeyHash ?? null,
        now,
        now,
      );
    }
  })();
  const index = resourceIndex(s, first.hostId, first.providerId);
  return new Map(intents.map((i) => [i.logicalKey, index.get(`${i.type}|${i.logicalKey}`) as ResourceRow]));
}

export function batchResources(s: StoreContext, batchId: string): ResourceRow[] {
  return s.db
    .select()
    .from(managedResources)
    .where(eq(managedResources.batchId, batchId))
    .orderBy(managedResources.id)
    .all();
}

export function liveResources(s: StoreContext, hostId: string, providerId: string): ResourceRow[] {
  return s.db
    .select()
    .from(managedResources)
    .where(
      and(
        eq(managedResources.hostId, hostId),
        eq(managedResources.providerId, providerId),
        inArray(managedResources.state, [...LIVE_STATES]),
      ),
    )
    .orderBy(managedResources.id)
    .all();
}

/** Every recorded resource of a provider (on one host, or on all). */
export function resourcesOf(s: StoreContext, providerId: string, hostId?: string): ResourceRow[] {
  return s.db
    .select()
    .from(managedResources)
    .where(
      and(
        eq(managedResources.providerId, providerId),
        ...(hostId ? [eq(managedResources.hostId, hostId)] : []),
      ),
    )
    .orderBy(managedResources.id)
    .all();
}

/** Whether relay's records of a provider on a host changed at or after `iso` (a resource or a batch). */
export function changedSince(s: StoreContext, hostId: string, providerId: string, iso: string): boolean {
  const row = stmt(
    s.db.$client,
    `SELECT 1 FROM managed_resources WHERE host_id = ? AND provider_id = ? AND updated_at >= ?
     UNION ALL
     SELECT 1 FROM import_batches WHERE host_id = ? AND provider_id = ? AND updated_at >= ?
     LIMIT 1`,
  ).get(hostId, providerId, iso, hostId, providerId, iso);
  return row !== undefined;
}
