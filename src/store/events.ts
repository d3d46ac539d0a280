import { nowIso, type StoreContext, write } from "./db.js";

/**
 * One line of a batch's, host's or provider's history, shown by `relay batch show`; also one log
 * line (imports, rollbacks, recoveries, heals) with the ids an operator searches logs by.
 */
export async function appendEvent(
  s: StoreContext & { logger?: { info: (obj: object, msg: string) => void } },
  e: {
    kind: string;
    message: string;
    hostId?: string;
    providerId?: string;
    batchId?: string;
    data?: Record<string, unknown>;
  },
): Promise<void> {
  await write(s, (q) =>
    q
      .insertInto("events")
      .values({
        at: nowIso(s),
        kind: e.kind,
        message: e.message,
        hostId: e.hostId ?? null,
        providerId: e.providerId ?? null,
        batchId: e.batchId ?? null,
        data: e.data ?? {},
      })
      .execute(),
  );
  s.logger?.info(
    { event: e.kind, batch_id: e.batchId, host_id: e.hostId, provider_id: e.providerId },
    e.message,
  );
}

/** The newest event of a kind about a host (e.g. `host_probe_failed`), or undefined. */
export function lastHostEvent(
  s: StoreContext,
  hostId: string,
  kind: string,
): Promise<{ at: string; message: string; data: Record<string, unknown> } | undefined> {
  return s.db.q
    .selectFrom("events")
    .select(["at", "message", "data"])
    .where("hostId", "=", hostId)
    .where("kind", "=", kind)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
}
