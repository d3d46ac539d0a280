import { and, desc, eq } from "drizzle-orm";
import semver from "semver";
import { AppError, conflict, notFound } from "../domain/errors.js";
import { loadPack, loadPackZip, type PackFiles } from "../pack/archive.js";
import type { ProviderDefinition } from "../pack/schema.js";
import { type PackIssue, type PackReport, validatePack } from "../pack/validate.js";
import { packs, providerInstalls, providers } from "../store/schema.js";
import { type AppContext, nowIso } from "./context.js";

export type PackSource = { kind: "path"; path: string } | { kind: "zip"; data: Buffer; label: string };

export interface PackView {
  pack_id: string;
  name: string;
  version: string;
  description: string;
  host: { app: string; version_range: string };
  providers: string[];
  content_hash: string;
  source: string;
  installed_at: string;
  history: { version: string; installed_at: string; current: boolean }[];
}

export interface InstallResult {
  outcome: "installed" | "upgraded" | "unchanged" | "downgraded";
  previous_version: string | null;
  pack: PackView;
  warnings: PackIssue[];
}

export async function readPackSource(source: PackSource): Promise<PackFiles> {
  return source.kind === "path" ? loadPack(source.path) : loadPackZip(source.data, source.label);
}

function installedProviderOwners(ctx: AppContext): Map<string, string> {
  return new Map(
    ctx.db
      .select({ providerId: providers.providerId, packId: providers.packId })
      .from(providers)
      .all()
      .map((r) => [r.providerId, r.packId]),
  );
}

/** Validate without installing (`relay pack lint`): the full report, nothing written. */
export async function lintPack(ctx: AppContext, source: PackSource): Promise<PackReport> {
  return validatePack(await readPackSource(source), { installedProviders: installedProviderOwners(ctx) });
}

function rejectReport(report: PackReport): AppError {
  const errors = report.issues.filter((i) => i.severity === "error");
  const first = errors[0];
  return new AppError(
    "pack_invalid",
    "PACK_INVALID",
    `pack rejected with ${errors.length} problem(s)${first ? `; first: ${first.file ?? ""} ${first.message}` : ""}`,
    {
      details: { issues: report.issues },
      hint: "Run `relay pack lint PATH` for the full report; nothing was installed.",
    },
  );
}

/**
 * Installs a pack: same version and content → no change; higher version → upgrade (earlier
 * versions stay in history); lower → refused unless forced. Any rejection writes nothing.
 */
export async function installPack(
  ctx: AppContext,
  source: PackSource,
  options: { force?: boolean } = {},
): Promise<InstallResult> {
  const files = await readPackSource(source);
  const report = validatePack(files, { installedProviders: installedProviderOwners(ctx) });
  if (!report.ok || !report.manifest) throw rejectReport(report);
  const manifest = report.manifest;
  const sourceLabel = source.kind === "path" ? source.path : source.label;
  const warnings = report.issues.filter((i) => i.severity === "warning");

  const current = ctx.db
    .select()
    .from(packs)
    .where(and(eq(packs.packId, manifest.pack_id), eq(packs.isCurrent, true)))
    .get();
  const sameVersion = ctx.db
    .select()
    .from(packs)
    .where(and(eq(packs.packId, manifest.pack_id), eq(packs.version, manifest.version)))
    .get();
  if (sameVersion && sameVersion.contentHash !== report.content_hash) {
    throw conflict(
      "PACK_VERSION_CHANGED",
      `${manifest.pack_id} ${manifest.version} is already installed with different content`,
      {
        hint: "A published version is immutable: bump the pack version for changed content.",
      },
    );
  }
  if (current && current.version === manifest.version) {
    return {
      outcome: "unchanged",
      previous_version: current.version,
      pack: getPack(ctx, manifest.pack_id),
      warnings,
    };
  }
  let outcome: InstallResult["outcome"] = "installed";
  if (current) {
    if (semver.lt(manifest.version, current.version)) {
      if (!options.force) {
        throw conflict(
          "PACK_DOWNGRADE",
          `${manifest.pack_id} ${manifest.version} is older than the installed ${current.version}`,
          {
            hint: "Pass --force (API: ?force=true) to install an older version on purpose.",
          },
        );
      }
      outcome = "downgraded";
    } else {
      outcome = "upgraded";
    }
  }

  const newIds = new Set(report.providers.map((p) => p.provider_id));
  const removed = ctx.db
    .select({ providerId: providers.providerId })
    .from(providers)
    .where(eq(providers.packId, manifest.pack_id))
    .all()
    .filter((r) => !newIds.has(r.providerId));
  for (const r of removed) {
    if (
      ctx.db
        .select({ id: providerInstalls.id })
        .from(providerInstalls)
        .where(eq(providerInstalls.providerId, r.providerId))
        .get()
    ) {
      throw conflict(
        "PROVIDER_IN_USE",
        `this version drops provider "${r.providerId}", which is in use on a host`,
        {
          hint: "Roll back that provider's batches first, or keep the provider in the pack.",
        },
      );
    }
  }

  const now = nowIso(ctx);
  ctx.db.transaction((tx) => {
    tx.update(packs).set({ isCurrent: false }).where(eq(packs.packId, manifest.pack_id)).run();
    if (sameVersion) {
      tx.update(packs)
        .set({ isCurrent: true, installedAt: now, source: sourceLabel })
        .where(eq(packs.id, sameVersion.id))
        .run();
    } else {
      tx.insert(packs)
        .values({
          packId: manifest.pack_id,
          version: manifest.version,
          name: manifest.name,
          description: manifest.description,
          manifest: { ...manifest, providers: report.providers } as unknown as Record<string, unknown>,
          contentHash: report.content_hash,
          source: sourceLabel,
          isCurrent: true,
          installedAt: now,
        })
        .run();
    }
    for (const r of removed) tx.delete(providers).where(eq(providers.providerId, r.providerId)).run();
    for (const p of report.providers) {
      const values = {
        packId: manifest.pack_id,
        providerId: p.provider_id,
        packVersion: manifest.version,
        displayName: p.display_name,
        definition: p as unknown as Record<string, unknown>,
        updatedAt: now,
      };
      tx.insert(providers)
        .values(values)
        .onConflictDoUpdate({ target: [providers.packId, providers.providerId], set: values })
        .run();
    }
  });
  ctx.logger.info({ pack_id: manifest.pack_id, version: manifest.version, outcome }, "pack installed");
  return {
    outcome,
    previous_version: current?.version ?? null,
    pack: getPack(ctx, manifest.pack_id),
    warnings,
  };
}

export function listPacks(ctx: AppContext): PackView[] {
  return ctx.db
    .select({ packId: packs.packId })
    .from(packs)
    .where(eq(packs.isCurrent, true))
    .orderBy(packs.packId)
    .all()
    .map((r) => getPack(ctx, r.packId));
}

export function getPack(ctx: AppContext, packId: string): PackView {
  const rows = ctx.db.select().from(packs).where(eq(packs.packId, packId)).orderBy(desc(packs.id)).all();
  const current = rows.find((r) => r.isCurrent);
  if (!current)
    throw notFound("PACK_NOT_FOUND", `no pack "${packId}" is installed`, {
      hint: "List installed packs with `relay pack list`.",
    });
  const manifest = current.manifest as { host: PackView["host"]; providers: ProviderDefinition[] };
  return {
    pack_id: current.packId,
    name: current.name,
    version: current.version,
    description: current.description,
    host: manifest.host,
    providers: manifest.providers.map((p) => p.provider_id),
    content_hash: current.contentHash,
    source: current.source,
    installed_at: current.installedAt,
    history: rows.map((r) => ({ version: r.version, installed_at: r.installedAt, current: r.isCurrent })),
  };
}

export function listPackProviders(ctx: AppContext, packId: string): ProviderDefinition[] {
  getPack(ctx, packId);
  return ctx.db
    .select()
    .from(providers)
    .where(eq(providers.packId, packId))
    .orderBy(providers.providerId)
    .all()
    .map((r) => r.definition as unknown as ProviderDefinition);
}

/** The installed definition of a provider, with its pack's host version range. */
export function getProviderDefinition(
  ctx: AppContext,
  providerId: string,
): { definition: ProviderDefinition; packId: string; packVersion: string; versionRange: string } {
  const row = ctx.db.select().from(providers).where(eq(providers.providerId, providerId)).get();
  if (!row)
    throw notFound("PROVIDER_NOT_FOUND", `no provider "${providerId}" is installed`, {
      hint: "Install a pack that defines it with `relay pack install`.",
    });
  const pack = getPack(ctx, row.packId);
  return {
    definition: row.definition as unknown as ProviderDefinition,
    packId: row.packId,
    packVersion: row.packVersion,
    versionRange: pack.host.version_range,
  };
}
