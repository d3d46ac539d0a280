import { sql } from "kysely";
import type { ItemStatus } from "../domain/resources.js";
import { nowIso, type StoreContext, write } from "./db.js";

/** What an import (or a rotation) records per key of a batch: status, error, result. */

export async function setItem(
  s: StoreContext,
  batchId: string,
  hash: string,
  patch: {
    status?: ItemStatus;
    errorCode?: string | null;
    errorMessage?: string | null;
    result?: Record<string, unknown>;
  },
): Promise<void> {
  // `result` is merged (top-level keys), in the statement: each engine's JSON merge.
  const more = JSON.stringify(patch.result ?? {});
  const merged =
    s.db.kind === "postgres"
      ? sql<Record<string, unknown>>`(result::jsonb || ${more}::jsonb)::text`
      : sql<Record<string, unknown>>`json_patch(result, ${more})`;
  await write(s, (q) =>
    q
      .updateTable("import_batch_items")
      .set({
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.errorCode !== undefined ? { errorCode: patch.errorCode } : {}),
        ...(patch.errorMessage !== undefined ? { errorMessage: patch.errorMessage } : {}),
        result: merged,
        updatedAt: nowIso(s),
      })
      .where("batchId", "=", batchId)
      .where("rawKeyHash", "=", hash)
      .execute(),
  );
}

export interface ItemPatch {
  hash: string;
  status?: ItemStatus;
  errorCode?: string | null;
  errorMessage?: string | null;
  result?: Record<string, unknown>;
}

/** Keys per statement of `setItems`: a few bound values each, far below either engine's limit. */
const ITEMS_PER_UPDATE = 100;

/**
 * `setItem` for many keys of one batch in one statement per hundred keys: each column a CASE on
 * the key's hash (every value bound), `result` merged per key as `setItem` does. On a database a
 * round trip away, a chunk of the import costs one round trip instead of one per key.
 */
export async function setItems(s: StoreContext, batchId: string, items: ItemPatch[]): Promise<void> {
  for (let at = 0; at < items.length; at += ITEMS_PER_UPDATE) {
    const part = items.slice(at, at + ITEMS_PER_UPDATE);
    const pick = (
      field: "status" | "errorCode" | "errorMessage",
      column: "status" | "error_code" | "error_message",
    ) => {
      const given = part.filter((i) => i[field] !== undefined);
      if (given.length === 0) return {};
      const whens = sql.join(
        given.map((i) => sql`WHEN ${i.hash} THEN ${i[field] ?? null}`),
        sql` `,
      );
      return { [field]: sql`CASE raw_key_hash ${whens} ELSE ${sql.ref(column)} END` };
    };
    const merges = sql.join(
      part.map((i) => {
        const more = JSON.stringify(i.result ?? {});
        return s.db.kind === "postgres"
          ? sql`WHEN ${i.hash} THEN (result::jsonb || ${more}::jsonb)::text`
          : sql`WHEN ${i.hash} THEN json_patch(result, ${more})`;
      }),
      sql` `,
    );
    await write(s, (q) =>
      q
        .updateTable("import_batch_items")
        .set({
          ...pick("status", "status"),
          ...pick("errorCode", "error_code"),
          ...pick("errorMessage", "error_message"),
          result: sql<Record<string, unknown>>`CASE raw_key_hash ${merges} ELSE result END`,
          updatedAt: nowIso(s),
        })
        .where("batchId", "=", batchId)
        .where(
          "rawKeyHash",
          "in",
          part.map((i) => i.hash),
        )
        .execute(),
    );
  }
}
