import semver from "semver";
import type { AppContext } from "../app/context.js";
import { AppError, conflict } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { declaredRenames } from "../domain/model-migration.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import {
  type PackIssue,
  type PackReport,
  type ValidateOptions,
  validatePack,
} from "../domain/pack/validate.js";
import { findHost } from "../store/hosts.js";
import { listInstalls } from "../store/installs.js";
import {
  currentPackIds,
  deletePack,
  packNotFound,
  packRows,
  providerDefinitionsOfPack,
  providerIdsOfPack,
  providerInUse,
  providerOwners,
  writePackInstall,
} from "../store/packs.js";
import { loadPack, loadPackZip, type PackFiles } from "./archive.js";
export type PackSource =
  | { kind: "path"; path: string /** how messages name it (default: the path) */; shown?: string }
  | { kind: "zip"; data: Buffer; label: string };

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
  return source.kind === "path"
    ? loadPack(source.path, undefined, source.shown)
    : loadPackZip(source.data, source.label);
}

/** Validate without installing (`relay pack lint`): the full report, nothing written. */
export async function lintPack(
  ctx: AppContext,
  source: PackSource,
  options: { asOf?: Date } = {},
): Promise<PackReport> {
  return validatePack(
    await readPackSource(source),
    await validateOptions(ctx, source, options.asOf ?? ctx.clock()),
  );
}

async function validateOptions(ctx: AppContext, source: PackSource, now: Date): Promise<ValidateOptions> {
  return {
    installedProviders: await providerOwners(ctx),
    allowLoopbackHttp: ctx.config.allowLoopbackUpstreams,
    now,
    onPatternAnalysis: (count) =>
      ctx.logger.info(
        { source: source.kind === "path" ? (source.shown ?? source.path) : source.label, patterns: count },
        "analysing key patterns that are not a plain sequence (ReDoS check)",
      ),
  };
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
      hint: hint`Run ${act.packLint("PATH")} for the full report; nothing was installed.`,
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
  const report = await validatePack(files, await validateOptions(ctx, source, ctx.clock()));
  if (!report.ok || !report.manifest) throw rejectReport(report);
  const manifest = report.manifest;
  const sourceLabel = source.kind === "path" ? (source.shown ?? source.path) : source.label;
  const warnings = report.issues.filter((i) => i.severity === "warning");

  const rows = await packRows(ctx, manifest.pack_id);
  const current = rows.find((r) => r.isCurrent);
  const sameVersion = rows.find((r) => r.version === manifest.version);
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
      pack: await getPack(ctx, manifest.pack_id),
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
  const removed = (await providerIdsOfPack(ctx, manifest.pack_id)).filter((id) => !newIds.has(id));
  for (const id of removed) {
    if (await providerInUse(ctx, id)) {
      throw conflict("PROVIDER_IN_USE", `this version drops provider "${id}", which is in use on a host`, {
        hint: "Roll back that provider's batches first, or keep the provider in the pack.",
      });
    }
  }
  const previous = current ? await providerDefinitionsOfPack(ctx, manifest.pack_id) : [];
  const hints = current ? await migrationHints(ctx, previous, report.providers) : [];
  await writePackInstall(ctx, {
    manifest,
    providers: report.providers,
    contentHash: report.content_hash,
    source: sourceLabel,
    sameVersionId: sameVersion?.id,
    removedProviders: removed,
  });
  ctx.logger.info({ pack_id: manifest.pack_id, version: manifest.version, outcome }, "pack installed");
  return {
    outcome,
    previous_version: current?.version ?? null,
    pack: await getPack(ctx, manifest.pack_id),
    warnings: [...warnings, ...hints],
  };
}

/**
 * A provider already imported on a host whose new version renames a model (a `replacement` it did
 * not declare before): the accounts there still send the old name, so the install says which
 * command moves it (`relay provider migrate`, src/provision/migrate.ts).
 */
async function migrationHints(
  ctx: AppContext,
  before: ProviderDefinition[],
  after: ProviderDefinition[],
): Promise<PackIssue[]> {
  const issues: PackIssue[] = [];
  const installs = await listInstalls(ctx);
  for (const def of after) {
    const old = new Set(
      declaredRenames(before.find((b) => b.provider_id === def.provider_id) ?? { model_lifecycle: {} }).map(
        (r) => `${r.from}>${r.to}`,
      ),
    );
    const fresh = declaredRenames(def).filter((r) => !old.has(`${r.from}>${r.to}`));
    const hostIds = installs.filter((i) => i.providerId === def.provider_id).map((i) => i.hostId);
    if (fresh.length === 0 || hostIds.length === 0) continue;
    const hosts = await Promise.all(hostIds.map(async (id) => (await findHost(ctx, id)).name));
    issues.push({
      severity: "warning",
      code: "MODELS_RENAMED",
      file: `providers/${def.provider_id}.json`,
      pointer: "/model_lifecycle",
      message: `${def.provider_id} now renames ${fresh.map((r) => `${r.from} → ${r.to}`).join(", ")}: users may still call the old name; run ${hosts.map((h) => `\`relay provider migrate ${def.provider_id} --host ${h}\``).join(", ")} (--dry-run first)`,
    });
  }
  return issues;
}

export async function listPacks(ctx: AppContext): Promise<PackView[]> {
  return Promise.all((await currentPackIds(ctx)).map(async (id) => await getPack(ctx, id)));
}

export async function getPack(ctx: AppContext, packId: string): Promise<PackView> {
  const rows = await packRows(ctx, packId);
  const current = rows.find((r) => r.isCurrent);
  if (!current) throw packNotFound(packId);
  return {
    pack_id: current.packId,
    name: current.name,
    version: current.version,
    description: current.description,
    host: current.manifest.host,
    providers: current.manifest.providers.map((p) => p.provider_id),
    content_hash: current.contentHash,
    source: current.source,
    installed_at: current.installedAt,
    history: rows.map((r) => ({ version: r.version, installed_at: r.installedAt, current: r.isCurrent })),
  };
}

export async function listPackProviders(ctx: AppContext, packId: string): Promise<ProviderDefinition[]> {
  await getPack(ctx, packId);
  return await providerDefinitionsOfPack(ctx, packId);
}

/**
 * Removes an installed pack. Refused while any host has a record of one of its providers: the
 * definitions are what relay reads those resources with (roll the batches back first).
 */
export async function removePack(
  ctx: AppContext,
  packId: string,
): Promise<{ pack_id: string; removed_versions: number }> {
  const pack = await getPack(ctx, packId);
  const inUse: string[] = [];
  for (const id of pack.providers) if (await providerInUse(ctx, id)) inUse.push(id);
  if (inUse.length > 0) {
    throw conflict(
      "PACK_IN_USE",
      `pack ${packId} provides ${inUse.join(", ")}, which hosts still have records of`,
      {
        hint: hint`Roll back those providers' batches on every host first (${act.batchList("--provider ID")}).`,
      },
    );
  }
  await deletePack(ctx, packId);
  ctx.logger.info({ pack_id: packId }, "pack removed");
  return { pack_id: packId, removed_versions: pack.history.length };
}
