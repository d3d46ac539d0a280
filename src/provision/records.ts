import { and, eq, inArray } from "drizzle-orm";
import { type AppContext, nowIso } from "../services/context.js";
import { events, managedResources, providerInstalls } from "../store/schema.js";
import { stmt } from "../store/statements.js";

export type ResourceType =
  | "group"
  | "channel"
  | "plan"
  | "account"
  | "subscription"
  | "probe_user"
  | "probe_key";
export type ResourceRow = typeof managedResources.$inferSelect;
export const LIVE_STATES = ["create_pending", "created", "reused", "delete_pending"] as const;

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
export function recordIntent(ctx: AppContext, intent: Intent): ResourceRow {
  const now = nowIso(ctx);
  const existing = findResource(ctx, intent.hostId, intent.providerId, intent.type, intent.logicalKey);
  if (existing && (LIVE_STATES as readonly string[]).includes(existing.state)) return existing;
  const values = {
    batchId: intent.batchId,
    name: intent.name,
    hostResourceId: null,
    state: "create_pending",
    origin: "created" as const,
    idempotencyKey: intent.idempotencyKey,
    rawKeyHash: intent.rawKeyHash ?? null,
    attrs: intent.attrs ?? {},
    updatedAt: now,
  };
  if (existing) {
    ctx.db.update(managedResources).set(values).where(eq(managedResources.id, existing.id)).run();
  } else {
    ctx.db
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
  return findResource(ctx, intent.hostId, intent.providerId, intent.type, intent.logicalKey) as ResourceRow;
}

export function findResource(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  type: ResourceType,
  logicalKey: string,
) {
  return ctx.db
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
  ctx: AppContext,
  id: number,
  patch: Partial<Pick<ResourceRow, "state" | "hostResourceId" | "attrs" | "origin" | "batchId">>,
) {
  if (patch.attrs === undefined && patch.origin === undefined && patch.batchId === undefined) {
    // Hot path (one per account): a cached statement instead of a freshly built query.
    stmt(
      ctx.db.$client,
      "UPDATE managed_resources SET state = coalesce(?, state), host_resource_id = coalesce(?, host_resource_id), updated_at = ? WHERE id = ?",
    ).run(patch.state ?? null, patch.hostResourceId ?? null, nowIso(ctx), id);
    return;
  }
  ctx.db
    .update(managedResources)
    .set({ ...patch, updatedAt: nowIso(ctx) })
    .where(eq(managedResources.id, id))
    .run();
}

/** Every recorded resource of a provider on a host, by `type|logical_key`, in one query. */
export function resourceIndex(ctx: AppContext, hostId: string, providerId: string): Map<string, ResourceRow> {
  const rows = ctx.db
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
export function recordIntents(ctx: AppContext, intents: Intent[]): Map<string, ResourceRow> {
  const first = intents[0];
  if (!first) return new Map();
  const now = nowIso(ctx);
  const upsert = stmt(
    ctx.db.$client,
    `INSERT INTO managed_resources (host_id, provider_id, batch_id, resource_type, logical_key, name, host_resource_id,
       state, origin, idempotency_key, raw_key_hash, attrs, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, NULL, 'create_pending', 'created', ?, ?, '{}', ?, ?)
     ON CONFLICT (host_id, provider_id, resource_type, logical_key) DO UPDATE SET
       batch_id = excluded.batch_id, name = excluded.name, host_resource_id = NULL, state = 'create_pending',
       origin = 'created', idempotency_key = excluded.idempotency_key, raw_key_hash = excluded.raw_key_hash,
       attrs = '{}', updated_at = excluded.updated_at
     WHERE managed_resources.state NOT IN ('create_pending', 'created', 'reused', 'delete_pending')`,
  );
  ctx.db.$client.transaction(() => {
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
  const index = resourceIndex(ctx, first.hostId, first.providerId);
  return new Map(intents.map((i) => [i.logicalKey, index.get(`${i.type}|${i.logicalKey}`) as ResourceRow]));
}

export function batchResources(ctx: AppContext, batchId: string): ResourceRow[] {
  return ctx.db
    .select()
    .from(managedResources)
    .where(eq(managedResources.batchId, batchId))
    .orderBy(managedResources.id)
    .all();
}

export function liveResources(ctx: AppContext, hostId: string, providerId: string): ResourceRow[] {
  return ctx.db
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

export function appendEvent(
  ctx: AppContext,
  e: {
    kind: string;
    message: string;
    hostId?: string;
    providerId?: string;
    batchId?: string;
    data?: Record<string, unknown>;
  },
) {
  ctx.db
    .insert(events)
    .values({
      at: nowIso(ctx),
      kind: e.kind,
      message: e.message,
      hostId: e.hostId ?? null,
      providerId: e.providerId ?? null,
      batchId: e.batchId ?? null,
      data: e.data ?? {},
    })
    .run();
}

export type ProviderStatus =
  | "discovered"
  | "validated"
  | "installed"
  | "active"
  | "degraded"
  | "drifted"
  | "failed"
  | "disabled";

export function getInstall(ctx: AppContext, hostId: string, providerId: string) {
  return ctx.db
    .select()
    .from(providerInstalls)
    .where(and(eq(providerInstalls.hostId, hostId), eq(providerInstalls.providerId, providerId)))
    .get();
}

export function ensureInstall(ctx: AppContext, hostId: string, providerId: string) {
  const existing = getInstall(ctx, hostId, providerId);
  if (existing) return existing;
  const now = nowIso(ctx);
  ctx.db
    .insert(providerInstalls)
    .values({
      hostId,
      providerId,
      status: "validated",
      statusReason: "pack compatible with host",
      statusChangedAt: now,
      accessState: "not_configured",
      generation: 1,
      createdAt: now,
      updatedAt: now,
    })
    .run();
  return getInstall(ctx, hostId, providerId) as NonNullable<ReturnType<typeof getInstall>>;
}

/** Moves the provider's status on a host; the time of change moves only when the status does. */
export function setProviderStatus(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  status: ProviderStatus,
  reason: string,
) {
  const install = ensureInstall(ctx, hostId, providerId);
  const now = nowIso(ctx);
  ctx.db
    .update(providerInstalls)
    .set({
      status,
      statusReason: reason,
      updatedAt: now,
      ...(install.status !== status ? { statusChangedAt: now } : {}),
    })
    .where(eq(providerInstalls.id, install.id))
    .run();
}

export function bumpGeneration(ctx: AppContext, hostId: string, providerId: string) {
  const install = ensureInstall(ctx, hostId, providerId);
  ctx.db
    .update(providerInstalls)
    .set({ generation: install.generation + 1, updatedAt: nowIso(ctx) })
    .where(eq(providerInstalls.id, install.id))
    .run();
}
