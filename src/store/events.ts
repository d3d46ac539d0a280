import { nowIso, type StoreContext } from "./db.js";
import { events } from "./schema.js";

/** One line of a batch's, host's or provider's history, shown by `relay batch show`. */
export function appendEvent(
  s: StoreContext,
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
}
