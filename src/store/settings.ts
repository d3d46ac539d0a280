import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "./db.js";
import { type HostRow, hosts, settings } from "./schema.js";

export function getSetting(db: Db, key: string): string | undefined {
  return db.select().from(settings).where(eq(settings.key, key)).get()?.value;
}

/** Stores a value unless one is there already (two processes starting together agree on the first). */
export function putSettingIfAbsent(db: Db, key: string, value: string): void {
  db.insert(settings).values({ key, value, updatedAt: new Date().toISOString() }).onConflictDoNothing().run();
}

const INSTALL_ID = "install_id";

/**
 * This installation's id (8 hex digits), generated on first use and kept for the database's life.
 * It is part of every name relay gives a host resource, so two installations never take each
 * other's resources for their own.
 */
export function installId(db: Db): string {
  const existing = getSetting(db, INSTALL_ID);
  if (existing) return existing;
  putSettingIfAbsent(db, INSTALL_ID, randomBytes(4).toString("hex"));
  return getSetting(db, INSTALL_ID) as string;
}

export interface Reseal {
  host: (h: HostRow) => Pick<HostRow, "adminTokenSealed" | "probePasswordSealed">;
  setting: (key: string, value: string) => string;
}

/** Re-encrypts every sealed secret (host tokens, probe passwords, sealed settings) in one transaction. */
export function resealAll(db: Db, settingKeys: string[], reseal: Reseal): { hosts: number; secrets: number } {
  let count = 0;
  const rows = db.select().from(hosts).all();
  db.transaction((tx) => {
    for (const h of rows) {
      const next = reseal.host(h);
      tx.update(hosts).set(next).where(eq(hosts.id, h.id)).run();
      count += next.probePasswordSealed ? 2 : 1;
    }
    for (const key of settingKeys) {
      const row = tx.select().from(settings).where(eq(settings.key, key)).get();
      if (!row) continue;
      tx.update(settings)
        .set({ value: reseal.setting(key, row.value), updatedAt: new Date().toISOString() })
        .where(eq(settings.key, key))
        .run();
      count += 1;
    }
  });
  return { hosts: rows.length, secrets: count };
}
