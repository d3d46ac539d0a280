import { notFound } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import type { PackManifest, ProviderDefinition } from "../domain/pack/schema.js";
import { inTransaction, nowIso, type StoreContext } from "./db.js";
import type { PackRow } from "./schema.js";

/** provider_id → the pack that installed it. */
export async function providerOwners(s: StoreContext): Promise<Map<string, string>> {
  const rows = await s.db.q.selectFrom("providers").select(["providerId", "packId"]).execute();
  return new Map(rows.map((r) => [r.providerId, r.packId]));
}

/** Every installed version of a pack, newest first. */
export function packRows(s: StoreContext, packId: string): Promise<PackRow[]> {
  return s.db.q.selectFrom("packs").selectAll().where("packId", "=", packId).orderBy("id", "desc").execute();
}

export async function currentPackIds(s: StoreContext): Promise<string[]> {
  const rows = await s.db.q
    .selectFrom("packs")
    .select("packId")
    .where("isCurrent", "=", true)
    .orderBy("packId")
    .execute();
  return rows.map((r) => r.packId);
}

export async function providerIdsOfPack(s: StoreContext, packId: string): Promise<string[]> {
  const rows = await s.db.q
    .selectFrom("providers")
    .select("providerId")
    .where("packId", "=", packId)
    .orderBy("providerId")
    .execute();
  return rows.map((r) => r.providerId);
}

export async function providerDefinitionsOfPack(
  s: StoreContext,
  packId: string,
): Promise<ProviderDefinition[]> {
  const rows = await s.db.q
    .selectFrom("providers")
    .select("definition")
    .where("packId", "=", packId)
    .orderBy("providerId")
    .execute();
  return rows.map((r) => r.definition);
}

/** The provider definitions of every current pack, by provider id. */
export async function currentProviderDefinitions(s: StoreContext): Promise<ProviderDefinition[]> {
  const rows = await s.db.q
    .selectFrom("providers")
    .innerJoin("packs", (join) =>
      join.onRef("packs.packId", "=", "providers.packId").on("packs.isCurrent", "=", true),
    )
    .select("providers.definition")
    .orderBy("providers.providerId")
    .execute();
  return rows.map((r) => r.definition);
}

/** Whether any host has a record of this provider (then a pack may not drop it). */
export async function providerInUse(s: StoreContext, providerId: string): Promise<boolean> {
  const row = await s.db.q
    .selectFrom("provider_installs")
    .select("id")
    .where("providerId", "=", providerId)
    .executeTakeFirst();
  return row !== undefined;
}

export interface PackWrite {
  manifest: PackManifest;
  providers: ProviderDefinition[];
  contentHash: string;
  source: string;
  /** The row of the same version already stored (re-activated instead of inserted). */
  sameVersionId: number | undefined;
  removedProviders: string[];
}

/** Makes a pack version current and its providers the installed ones, in one transaction. */
export async function writePackInstall(s: StoreContext, w: PackWrite): Promise<void> {
  const now = nowIso(s);
  const { manifest } = w;
  await inTransaction(s, async ({ db: { q } }) => {
    await q.updateTable("packs").set({ isCurrent: false }).where("packId", "=", manifest.pack_id).execute();
    if (w.sameVersionId !== undefined) {
      await q
        .updateTable("packs")
        .set({ isCurrent: true, installedAt: now, source: w.source })
        .where("id", "=", w.sameVersionId)
        .execute();
    } else {
      await q
        .insertInto("packs")
        .values({
          packId: manifest.pack_id,
          version: manifest.version,
          name: manifest.name,
          description: manifest.description,
          manifest: { ...manifest, providers: w.providers },
          contentHash: w.contentHash,
          source: w.source,
          isCurrent: true,
          installedAt: now,
        })
        .execute();
    }
    for (const id of w.removedProviders)
      await q.deleteFrom("providers").where("providerId", "=", id).execute();
    for (const p of w.providers) {
      const values = {
        packId: manifest.pack_id,
        providerId: p.provider_id,
        packVersion: manifest.version,
        displayName: p.display_name,
        definition: p,
        updatedAt: now,
        // Written only after validation, which refuses an unsafe key_pattern.
        keyPatternChecked: true,
      };
      await q
        .insertInto("providers")
        .values(values)
        .onConflict((oc) => oc.columns(["packId", "providerId"]).doUpdateSet(values))
        .execute();
    }
  });
}

export interface InstalledProvider {
  definition: ProviderDefinition;
  packId: string;
  packVersion: string;
  /** The pack's `host.version_range`. */
  versionRange: string;
  /** The key_pattern passed the ReDoS check at install; false for packs installed before the check. */
  keyPatternChecked: boolean;
}

export function packNotFound(packId: string) {
  return notFound("PACK_NOT_FOUND", `no pack "${packId}" is installed`, {
    hint: hint`List installed packs with ${act.packList()}.`,
  });
}

/** The installed definition of a provider, with its pack's host version range. */
export async function getProviderDefinition(s: StoreContext, providerId: string): Promise<InstalledProvider> {
  const row = await s.db.q
    .selectFrom("providers")
    .selectAll()
    .where("providerId", "=", providerId)
    .executeTakeFirst();
  if (!row)
    throw notFound("PROVIDER_NOT_FOUND", `no provider "${providerId}" is installed`, {
      hint: hint`Install a pack that defines it with ${act.packInstall()}.`,
    });
  const pack = await s.db.q
    .selectFrom("packs")
    .select("manifest")
    .where("packId", "=", row.packId)
    .where("isCurrent", "=", true)
    .executeTakeFirst();
  if (!pack) throw packNotFound(row.packId);
  return {
    definition: row.definition,
    packId: row.packId,
    packVersion: row.packVersion,
    versionRange: pack.manifest.host.version_range,
    keyPatternChecked: row.keyPatternChecked,
  };
}

/** Removes a pack (every installed version) and its provider definitions, in one transaction. */
export async function deletePack(s: StoreContext, packId: string): Promise<void> {
  await inTransaction(s, async ({ db: { q } }) => {
    await q.deleteFrom("providers").where("packId", "=", packId).execute();
    await q.deleteFrom("packs").where("packId", "=", packId).execute();
  });
}
