import { sql } from "kysely";
import { LIVE_STATES, type ResourceType } from "../domain/resources.js";
import { inTransaction, nowIso, type StoreContext, write } from "./db.js";
import type { Row } from "./schema.js";

export type { ResourceType };
export type ResourceRow = Row<"managed_resources">;

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
export async function recordIntent(s: StoreContext, intent: Intent): Promise<ResourceRow> {
  const now = nowIso(s);
  const existing = await findResource(s, intent.hostId, intent.providerId, intent.type, intent.logicalKey);
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
  await write(s, async (q) => {
    if (existing)
      await q.updateTable("managed_resources").set(values).where("id", "=", existing.id).execute();
    else
      await q
        .insertInto("managed_resources")
        .values({
          ...values,
          hostId: intent.hostId,
          providerId: intent.providerId,
          resourceType: intent.type,
          logicalKey: intent.logicalKey,
          createdAt: now,
        })
        .execute();
  });
  return (await findResource(
    s,
    intent.hostId,
    intent.providerId,
    intent.type,
    intent.logicalKey,
  )) as ResourceRow;
}

export function findResource(
  s: StoreContext,
  hostId: string,
  providerId: string,
  type: ResourceType,
  logicalKey: string,
): Promise<ResourceRow | undefined> {
  return s.db.q
    .selectFrom("managed_resources")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("resourceType", "=", type)
    .where("logicalKey", "=", logicalKey)
    .executeTakeFirst();
}

export async function updateResource(
  s: StoreContext,
  id: number,
  patch: Partial<
    Pick<
      ResourceRow,
      "state" | "hostResourceId" | "attrs" | "origin" | "batchId" | "name" | "logicalKey" | "rawKeyHash"
    >
  >,
): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("managed_resources")
      .set({ ...patch, updatedAt: nowIso(s) })
      .where("id", "=", id)
      .execute(),
  );
}

/** Rows per statement of `updateResources`. */
const RESOURCES_PER_UPDATE = 100;

/**
 * `updateResource` for many rows in one statement per hundred rows: each row's new state and host
 * id a CASE on its id (every value bound). A chunk of the import's accounts settles in one round trip.
 */
export async function updateResources(
  s: StoreContext,
  updates: { id: number; state: ResourceRow["state"]; hostResourceId?: number }[],
): Promise<void> {
  for (let at = 0; at < updates.length; at += RESOURCES_PER_UPDATE) {
    const part = updates.slice(at, at + RESOURCES_PER_UPDATE);
    const states = sql.join(
      part.map((u) => sql`WHEN ${u.id} THEN ${u.state}`),
      sql` `,
    );
    const withId = part.filter((u) => u.hostResourceId !== undefined);
    const ids = sql.join(
      withId.map((u) => sql`WHEN ${u.id} THEN CAST(${u.hostResourceId} AS INTEGER)`),
      sql` `,
    );
    await write(s, (q) =>
      q
        .updateTable("managed_resources")
        .set({
          state: sql<ResourceRow["state"]>`CASE id ${states} ELSE state END`,
          ...(withId.length > 0
            ? { hostResourceId: sql<number | null>`CASE id ${ids} ELSE host_resource_id END` }
            : {}),
          updatedAt: nowIso(s),
        })
        .where(
          "id",
          "in",
          part.map((u) => u.id),
        )
        .execute(),
    );
  }
}

/**
 * An account whose key was rotated in place: its record now names the new key (logical key and
 * keyed hash), so a later import of that key reuses the account and one of the old key makes a new one.
 */
export async function rekeyAccount(
  s: StoreContext,
  id: number,
  patch: { logicalKey: string; rawKeyHash: string },
): Promise<void> {
  await updateResource(s, id, patch);
}

/**
 * Settles a create whose answer was lost from what the host shows: found (`hostResourceId`) →
 * `created`, not found → `gone`. Only while the record is still `create_pending`: a process that
 * is still making it (the access verbs hold no lease) records its own answer, and that one stands.
 */
export async function settlePendingCreate(
  s: StoreContext,
  id: number,
  hostResourceId: number | undefined,
): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("managed_resources")
      .set({
        state: hostResourceId === undefined ? "gone" : "created",
        hostResourceId: hostResourceId ?? null,
        updatedAt: nowIso(s),
      })
      .where("id", "=", id)
      .where("state", "=", "create_pending")
      .execute(),
  );
}

/** Every recorded resource of a provider on a host, by `type|logical_key`, in one query. */
export async function resourceIndex(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<Map<string, ResourceRow>> {
  const rows = await s.db.q
    .selectFrom("managed_resources")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .execute();
  return new Map(rows.map((r) => [`${r.resourceType}|${r.logicalKey}`, r]));
}

/** 14 columns a row: a few hundred rows a statement stays far below either engine's limit. */
const INTENTS_PER_INSERT = 200;

/**
 * Records many intents in one transaction (the bulk form of recordIntent): new rows are inserted,
 * rows of rolled-back batches are taken over, live rows are left alone. Returns rows by logical key.
 */
export async function recordIntents(s: StoreContext, intents: Intent[]): Promise<Map<string, ResourceRow>> {
  const first = intents[0];
  if (!first) return new Map();
  const now = nowIso(s);
  await inTransaction(s, async ({ db: { q } }) => {
    for (let at = 0; at < intents.length; at += INTENTS_PER_INSERT) {
      const part = intents.slice(at, at + INTENTS_PER_INSERT);
      await q
        .insertInto("managed_resources")
        .values(
          part.map((i) => ({
            hostId: i.hostId,
            providerId: i.providerId,
            batchId: i.batchId,
            resourceType: i.type,
            logicalKey: i.logicalKey,
            name: i.name,
            hostResourceId: null,
            state: "create_pending" as const,
            origin: "created" as const,
            idempotencyKey: i.idempotencyKey,
            rawKeyHash: i.rawKeyHash ?? null,
            attrs: {},
            createdAt: now,
            updatedAt: now,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(["hostId", "providerId", "resourceType", "logicalKey"])
            .doUpdateSet((eb) => ({
              batchId: eb.ref("excluded.batchId"),
              name: eb.ref("excluded.name"),
              hostResourceId: null,
              state: "create_pending",
              origin: "created",
              idempotencyKey: eb.ref("excluded.idempotencyKey"),
              rawKeyHash: eb.ref("excluded.rawKeyHash"),
              attrs: sql<Record<string, unknown>>`'{}'`,
              updatedAt: eb.ref("excluded.updatedAt"),
            }))
            .where("managed_resources.state", "not in", [...LIVE_STATES]),
        )
        .execute();
    }
  });
  const index = await resourceIndex(s, first.hostId, first.providerId);
  return new Map(intents.map((i) => [i.logicalKey, index.get(`${i.type}|${i.logicalKey}`) as ResourceRow]));
}

export function batchResources(s: StoreContext, batchId: string): Promise<ResourceRow[]> {
  return s.db.q
    .selectFrom("managed_resources")
    .selectAll()
    .where("batchId", "=", batchId)
    .orderBy("id")
    .execute();
}

export function liveResources(s: StoreContext, hostId: string, providerId: string): Promise<ResourceRow[]> {
  return s.db.q
    .selectFrom("managed_resources")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("state", "in", [...LIVE_STATES])
    .orderBy("id")
    .execute();
}

/** What relay recorded as live on a host, of these types, for every provider (the probe user's keys and subscriptions). */
export function liveResourcesOnHost(
  s: StoreContext,
  hostId: string,
  types: ResourceType[],
): Promise<ResourceRow[]> {
  return s.db.q
    .selectFrom("managed_resources")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("resourceType", "in", types)
    .where("state", "in", [...LIVE_STATES])
    .orderBy("id")
    .execute();
}

/** Every recorded resource of a provider (on one host, or on all). */
export function resourcesOf(s: StoreContext, providerId: string, hostId?: string): Promise<ResourceRow[]> {
  let query = s.db.q.selectFrom("managed_resources").selectAll().where("providerId", "=", providerId);
  if (hostId) query = query.where("hostId", "=", hostId);
  return query.orderBy("id").execute();
}

/** Whether relay's records of a provider on a host changed at or after `iso` (a resource or a batch). */
export async function changedSince(
  s: StoreContext,
  hostId: string,
  providerId: string,
  iso: string,
): Promise<boolean> {
  const { rows } = await sql`SELECT 1 AS changed FROM managed_resources
      WHERE host_id = ${hostId} AND provider_id = ${providerId} AND updated_at >= ${iso}
    UNION ALL
    SELECT 1 FROM import_batches WHERE host_id = ${hostId} AND provider_id = ${providerId} AND updated_at >= ${iso}
    LIMIT 1`.execute(s.db.q);
  return rows.length > 0;
}
