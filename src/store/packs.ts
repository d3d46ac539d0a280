import { and, desc, eq } from "drizzle-orm";
import { notFound } from "../domain/errors.js";
import type { PackManifest, ProviderDefinition } from "../domain/pack/schema.js";
import { nowIso, type StoreContext } from "./db.js";
import { type PackRow, packs, providerInstalls, providers } from "./schema.js";

/** provider_id → the pack that installed it. */
export function providerOwners(s: StoreContext): Map<string, string> {
  return new Map(
    s.db
      .select({ providerId: providers.providerId, packId: providers.packId })
      .from(providers)
      .all()
      .map((r) => [r.providerId, r.packId]),
  );
}

/** Every installed version of a pack, newest first. */
export function packRows(s: StoreContext, packId: string): PackRow[] {
  return s.db.select().from(packs).where(eq(packs.packId, packId)).orderBy(desc(packs.id)).all();
}

export function currentPackIds(s: StoreContext): string[] {
  return s.db
    .select({ packId: packs.packId })
    .from(packs)
    .where(eq(packs.isCurrent, true))
    .orderBy(packs.packId)
    .all()
    .map((r) => r.packId);
}

export function providerIdsOfPack(s: StoreContext, packId: string): string[] {
  return s.db
    .select({ providerId: providers.providerId })
    .from(providers)
    .where(eq(providers.packId, packId))
    .orderBy(providers.providerId)
    .all()
    .map((r) => r.providerId);
}

export function providerDefinitionsOfPack(s: StoreContext, packId: string): ProviderDefinition[] {
  return s.db
    .select()
    .from(providers)
    .where(eq(providers.packId, packId))
    .orderBy(providers.providerId)
    .all()
    .map((r) => r.definition);
}

/** The provider definitions of every current pack, by provider id. */
export function currentProviderDefinitions(s: StoreContext): ProviderDefinition[] {
  return s.db
    .select({ definition: providers.definition })
    .from(providers)
    .innerJoin(packs, and(eq(packs.packId, providers.packId), eq(packs.isCurrent, true)))
    .orderBy(providers.providerId)
    .all()
    .map((r) => r.definition);
}

/** Whether any host has a record of this provider (then a pack may not drop it). */
export function providerInUse(s: StoreContext, providerId: string): boolean {
  return (
    s.db
      .select({ id: providerInstalls.id })
      .from(providerInstalls)
      .where(eq(providerInstalls.providerId, providerId))
      .get() !== undefined
  );
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
export function writePackInstall(s: StoreContext, w: PackWrite): void {
  const now = nowIso(s);
  const { manifest } = w;
  s.db.transaction((tx) => {
    tx.update(packs).set({ isCurrent: false }).where(eq(packs.packId, manifest.pack_id)).run();
    if (w.sameVersionId !== undefined) {
      tx.update(packs)
        .set({ isCurrent: true, installedAt: now, source: w.source })
        .where(eq(packs.id, w.sameVersionId))
        .run();
    } else {
      tx.insert(packs)
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
        .run();
    }
    for (const id of w.removedProviders) tx.delete(providers).where(eq(providers.providerId, id)).run();
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
      tx.insert(providers)
        .values(values)
        .onConflictDoUpdate({ target: [providers.packId, providers.providerId], set: values })
        .run();
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
    hint: "List installed packs with `relay pack list`.",
  });
}

/** The installed definition of a provider, with its pack's host version range. */
export function getProviderDefinition(s: StoreContext, providerId: string): InstalledProvider {
  const row = s.db.select().from(providers).where(eq(providers.providerId, providerId)).get();
  if (!row)
    throw notFound("PROVIDER_NOT_FOUND", `no provider "${providerId}" is installed`, {
      hint: "Install a pack that defines it with `relay pack install`.",
    });
  const pack = s.db
    .select({ manifest: packs.manifest })
    .from(packs)
    .where(and(eq(packs.packId, row.packId), eq(packs.isCurrent, true)))
    .get();
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
export function deletePack(s: StoreContext, packId: string): void {
  s.db.transaction((tx) => {
    tx.delete(providers).where(eq(providers.packId, packId)).run();
    tx.delete(packs).where(eq(packs.packId, packId)).run();
  });
}
