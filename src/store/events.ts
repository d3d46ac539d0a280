import { and, desc, eq } from "drizzle-orm";
import { nowIso, type StoreContext } from "./db.js";
import { events } from "./schema.js";

/**
 * One line of a batch's, host's or provider's history, shown by `relay batch show`; also one log
 * line (imports, rollbacks, recoveries, heals) with the ids an operator searches logs by.
 */
export function appendEvent(
  s: StoreContext & { logger?: { info: (obj: object, msg: string) => void } },
  e: {
    kind: string;
    message: string;
    hostId?: string;
    providerId?: string;
    batchId?: string;
    data?: Record<string, unknown>;
  },
) {
  s.db
    .insert(events)
    .values({
      at: nowIso(s),
      kind: e.kind,
      message: e.message,
      hostId: e.hostId ?? null,
      providerId: e.providerId ?? null,
      batchId: e.batchId ?? null,
      data: e.data ?? {},
    })
    .run();
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
): { at: string; message: string; data: Record<string, unknown> } | undefined {
  return s.db
    .select({ at: events.at, message: events.message, data: events.data })
    .from(events)
    .where(and(eq(events.hostId, hostId), eq(events.kind, kind)))
    .orderBy(desc(events.id))
    .limit(1)
    .get();
}
