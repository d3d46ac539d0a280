import { createHash } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { mapProvider } from "../domain/mapping.js";
import {
  type ChannelPrice,
  declaredRenames,
  type ModelAlias,
  migrateAccountMapping,
  migrateChannelMapping,
  pricingServing,
  samePrices,
} from "../domain/model-migration.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import type { MappingChangeSeed } from "../store/mapping-changes.js";
import { getProviderDefinition } from "../store/packs.js";
import { liveResources } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";

export interface MigrateRequest {
  hostRef: string;
  providerId: string;
}

/** One host resource whose model mapping the migration changes: the mapping before and after. */
export interface MigrationChange {
  target: "account" | "channel";
  host_resource_id: number;
  name: string;
  aliases: ModelAlias[];
  /** Account: its model_mapping; channel: platform → {from → to}. */
  mapping_before: Record<string, unknown>;
  mapping_after: Record<string, unknown>;
  /** Channel: its model_pricing before and after (the pack's prices, plus the old names it aliases). */
  pricing_before?: ChannelPrice[];
  pricing_after?: ChannelPrice[];
}

export interface MigrationPlan {
  host_id: string;
  host_name: string;
  provider_id: string;
  pack_version: string;
  /** What the installed pack version renames: `model_lifecycle` entries with a `replacement`. */
  renames: ModelAlias[];
  changes: MigrationChange[];
  /** Resources relay made that the migration leaves alone, and why. */
  unchanged: { target: "account" | "channel"; host_resource_id: number; name: string; reason: string }[];
  /** Binds the plan to what the host showed: applying refuses (PLAN_STALE) when it changed. */
  fingerprint: string;
}

/** The plan plus what applying it needs (never shown: the accounts' other credential fields). */
export interface PlannedMigration {
  plan: MigrationPlan;
  host: HostRow;
  adapter: HostAdapter;
  seeds: MappingChangeSeed[];
}

/**
 * Observe and decide: the accounts and the channel relay made for the provider on the host, read
 * from the host, and the alias each needs for the renames of the installed pack version. Nothing
 * is written.
 */
export async function planMigration(ctx: AppContext, req: MigrateRequest): Promise<PlannedMigration> {
  const host = await findHost(ctx, req.hostRef);
  const installed = await getProviderDefinition(ctx, req.providerId);
  const renames = declaredRenames(installed.definition);
  const adapter = await hostAdapterFor(ctx, host);
  const rows = (await liveResources(ctx, host.id, req.providerId)).filter(
    (r) => r.origin === "created" && r.hostResourceId !== null && r.state === "created",
  );
  const plan: MigrationPlan = {
    host_id: host.id,
    host_name: host.name,
    provider_id: req.providerId,
    pack_version: installed.packVersion,
    renames,
    changes: [],
    unchanged: [],
    fingerprint: "",
  };
  const seeds: MappingChangeSeed[] = [];
  const accountRows = rows.filter((r) => r.resourceType === "account");
  const channelRows = rows.filter((r) => r.resourceType === "channel");
  const channelAliases: ModelAlias[] = [];
  let channelPlatform: string | undefined;
  if (renames.length > 0 && accountRows.length > 0) {
    const onHost = new Map((await adapter.listAccounts()).map((a) => [a.id, a]));
    const aliases = new Map<string, ModelAlias>();
    const packAliased = new Set(Object.keys(installed.definition.model_mapping ?? {}));
    let platform: string | undefined;
    for (const row of accountRows) {
      const id = row.hostResourceId as number;
      const a = onHost.get(id);
      const skip = (reason: string) =>
        plan.unchanged.push({ target: "account", host_resource_id: id, name: row.name, reason });
      if (!a) {
        skip("not on the host (reconcile reports it)");
        continue;
      }
      platform ??= a.platform;
      const mapping = a.modelMapping ?? {};
      if (Object.keys(mapping).length === 0) {
        skip("its model_mapping is empty (it serves every model)");
        continue;
      }
      // The channel gets every rename an account serves, migrated already or not (a re-run after
      // a failed channel write still fixes the channel), but not an alias the pack's own
      // model_mapping gives every account it imports.
      for (const r of renames)
        if (Object.hasOwn(mapping, r.from) && !packAliased.has(r.from)) aliases.set(r.from, r);
      const m = migrateAccountMapping(mapping, renames);
      if (m.aliases.length === 0) {
        skip("already maps every renamed model it serves");
        continue;
      }
      plan.changes.push({
        target: "account",
        host_resource_id: id,
        name: a.name,
        aliases: m.aliases,
        mapping_before: mapping,
        mapping_after: m.after,
      });
      // The host drops every non-sensitive field an update omits: send back all of them as read.
      const before = { ...a.credentialFields };
      seeds.push({
        target: "account",
        hostResourceId: id,
        name: a.name,
        aliases: m.aliases,
        before,
        after: { ...before, model_mapping: m.after },
      });
    }
    if (platform !== undefined) channelAliases.push(...aliases.values());
    channelPlatform = platform;
  }
  if (renames.length > 0) {
    // The channel prices what the installed pack prices, and the old names its aliases serve.
    const mapping = mapProvider(installed.definition, {
      version: host.version,
      caps: await latestCapabilities(ctx, host.id),
    });
    const target = {
      platform: channelPlatform ?? mapping.platform,
      aliases: channelAliases,
      pricing: mapping.pricing,
    };
    await planChannels(adapter, channelRows, target, plan, seeds);
  }
  plan.fingerprint = fingerprint(plan);
  return { plan, host, adapter, seeds };
}

async function planChannels(
  adapter: HostAdapter,
  rows: { hostResourceId: number | null; name: string }[],
  target: { platform: string; aliases: ModelAlias[]; pricing: ChannelPrice[] },
  plan: MigrationPlan,
  seeds: MappingChangeSeed[],
): Promise<void> {
  if (rows.length === 0) return;
  const onHost = new Map((await adapter.listChannels()).map((c) => [c.id, c]));
  for (const row of rows) {
    const id = row.hostResourceId as number;
    const ch = onHost.get(id);
    if (!ch) {
      plan.unchanged.push({
        target: "channel",
        host_resource_id: id,
        name: row.name,
        reason: "not on the host (reconcile reports it)",
      });
      continue;
    }
    const m = migrateChannelMapping(ch.modelMapping, target.platform, target.aliases);
    const pricing = pricingServing(target.pricing, m.after);
    if (m.aliases.length === 0 && samePrices(pricing, ch.modelPricing)) {
      plan.unchanged.push({
        target: "channel",
        host_resource_id: id,
        name: ch.name,
        reason: "already maps every renamed model and prices what the pack prices",
      });
      continue;
    }
    plan.changes.push({
      target: "channel",
      host_resource_id: id,
      name: ch.name,
      aliases: m.aliases,
      mapping_before: ch.modelMapping,
      mapping_after: m.after,
      pricing_before: ch.modelPricing,
      pricing_after: pricing,
    });
    seeds.push({
      target: "channel",
      hostResourceId: id,
      name: ch.name,
      aliases: m.aliases,
      before: { model_mapping: ch.modelMapping, model_pricing: ch.modelPricing },
      after: { model_mapping: m.after, model_pricing: pricing },
    });
  }
}

function fingerprint(plan: MigrationPlan): string {
  const bound = {
    host: plan.host_id,
    provider: plan.provider_id,
    pack: plan.pack_version,
    changes: plan.changes.map((c) => [
      c.target,
      c.host_resource_id,
      c.mapping_before,
      c.mapping_after,
      c.pricing_before ?? null,
      c.pricing_after ?? null,
    ]),
  };
  return createHash("sha256").update(JSON.stringify(bound)).digest("hex");
}
