import { inTransaction, nowIso, type StoreContext, write } from "./db.js";
import type { MappingChangeState, Row } from "./schema.js";

export type MappingChangeRow = Row<"mapping_changes">;
export type { MappingChangeState };

export interface MappingChangeSeed {
  target: "account" | "channel";
  hostResourceId: number;
  name: string;
  aliases: { from: string; to: string }[];
  /** Account: its non-sensitive credential fields as read; channel: its model_mapping. Never a key. */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/** Every change of a migration batch, recorded `pending` in one transaction before any host write. */
export async function recordMappingChanges(
  s: StoreContext,
  where: { batchId: string; hostId: string; providerId: string },
  seeds: MappingChangeSeed[],
): Promise<void> {
  if (seeds.length === 0) return;
  const now = nowIso(s);
  await inTransaction(s, async ({ db: { q } }) => {
    await q
      .insertInto("mapping_changes")
      .values(
        seeds.map((c) => ({
          ...where,
          target: c.target,
          hostResourceId: c.hostResourceId,
          name: c.name,
          aliases: c.aliases,
          mappingBefore: c.before,
          mappingAfter: c.after,
          state: "pending" as const,
          error: null,
          createdAt: now,
          updatedAt: now,
        })),
      )
      .execute();
  });
}

export function mappingChanges(s: StoreContext, batchId: string): Promise<MappingChangeRow[]> {
  return s.db.q
    .selectFrom("mapping_changes")
    .selectAll()
    .where("batchId", "=", batchId)
    .orderBy("id")
    .execute();
}

export async function setMappingChange(
  s: StoreContext,
  id: number,
  state: MappingChangeState,
  error: string | null = null,
): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("mapping_changes")
      .set({ state, error, updatedAt: nowIso(s) })
      .where("id", "=", id)
      .execute(),
  );
}

/**
 * The model mapping relay last set on each account and channel of a provider by a migration that
 * stands (`applied`; a rolled-back one is `restored` or `left`), keyed `account:<id>` or
 * `channel:<id>`: what reconcile expects there instead of the pack's own mapping.
 */
export async function migratedMappings(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<Map<string, unknown>> {
  const rows = await s.db.q
    .selectFrom("mapping_changes")
    .select(["target", "hostResourceId", "mappingAfter"])
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("state", "=", "applied")
    .orderBy("id")
    .execute();
  return new Map(rows.map((r) => [`${r.target}:${r.hostResourceId}`, r.mappingAfter.model_mapping ?? {}]));
}
