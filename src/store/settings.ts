import { randomBytes } from "node:crypto";
import { type Db, inTransaction } from "./db.js";
import type { HostRow } from "./schema.js";

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  return (await db.q.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst())?.value;
}

/** Stores a value unless one is there already (two processes starting together agree on the first). */
export async function putSettingIfAbsent(db: Db, key: string, value: string): Promise<void> {
  await db.q
    .insertInto("settings")
    .values({ key, value, updatedAt: new Date().toISOString() })
    .onConflict((oc) => oc.column("key").doNothing())
    .execute();
}

const INSTALL_ID = "install_id";

/**
 * This installation's id (8 hex digits), generated on first use and kept for the database's life.
 * It is part of every name relay gives a host resource, so two installations never take each
 * other's resources for their own.
 */
export async function installId(db: Db): Promise<string> {
  const existing = await getSetting(db, INSTALL_ID);
  if (existing) return existing;
  await putSettingIfAbsent(db, INSTALL_ID, randomBytes(4).toString("hex"));
  return (await getSetting(db, INSTALL_ID)) as string;
}

export interface Reseal {
  host: (h: HostRow) => Pick<HostRow, "adminTokenSealed" | "probePasswordSealed">;
  setting: (key: string, value: string) => string;
}

/** Re-encrypts every sealed secret (host tokens, probe passwords, sealed settings) in one transaction. */
export async function resealAll(
  db: Db,
  settingKeys: string[],
  reseal: Reseal,
): Promise<{ hosts: number; secrets: number }> {
  let count = 0;
  const rows = await db.q.selectFrom("hosts").selectAll().execute();
  await inTransaction({ db, clock: () => new Date() }, async ({ db: { q } }) => {
    for (const h of rows) {
      const next = reseal.host(h);
      await q.updateTable("hosts").set(next).where("id", "=", h.id).execute();
      count += next.probePasswordSealed ? 2 : 1;
    }
    for (const key of settingKeys) {
      const row = await q.selectFrom("settings").selectAll().where("key", "=", key).executeTakeFirst();
      if (!row) continue;
      await q
        .updateTable("settings")
        .set({ value: reseal.setting(key, row.value), updatedAt: new Date().toISOString() })
        .where("key", "=", key)
        .execute();
      count += 1;
    }
  });
  return { hosts: rows.length, secrets: count };
}
