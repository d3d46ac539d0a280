import type { AppContext } from "../app/context.js";
import { type ResourceRow, updateResource } from "../store/resources.js";

/**
 * The saga's unit of work, for every verb that creates on a host (an import's steps, heal's
 * re-creates): the record already holds the intent — `create_pending`, no host id, the exact name
 * the call sends — and the host id is recorded from the answer. An answer that never comes (lost,
 * 503, held past the timeout, delivered late, the process killed after sending) leaves the record
 * `create_pending` under that name, and recovery, rollback and reconcile settle it by the name and
 * the ownership tag (provision/deletion.ts locateByName, reconcile/resolve.ts).
 */
export async function sendRecorded<T extends { id: number }>(
  ctx: AppContext,
  row: ResourceRow,
  call: (row: ResourceRow) => Promise<T>,
  attrs?: (made: T) => Record<string, unknown> | undefined,
): Promise<T> {
  const made = await call(row);
  const more = attrs?.(made);
  await updateResource(ctx, row.id, {
    hostResourceId: made.id,
    state: "created",
    ...(more ? { attrs: more } : {}),
  });
  return made;
}

/**
 * A recorded resource gone from the host, taken over as the intent of its re-create: the new name
 * (a host may keep a deleted name unique) and no host id, before the call is sent. The id it had
 * is kept in `attrs.replaced` for the record's history.
 */
export async function recordRecreateIntent(
  ctx: AppContext,
  row: ResourceRow,
  name: string,
): Promise<ResourceRow> {
  const attrs = { ...row.attrs, replaced: row.hostResourceId ?? row.attrs.replaced ?? null };
  await updateResource(ctx, row.id, { name, hostResourceId: null, state: "create_pending", attrs });
  return { ...row, name, hostResourceId: null, state: "create_pending", attrs };
}
