import type { HostFacts } from "../domain/compat.js";
import type { Expectation, Finding, Observed, RecordedResource } from "../domain/drift.js";
import type { ManagedFields } from "../domain/drift-fields.js";
import { type HostMapping, mapProvider } from "../domain/mapping.js";
import { modelFindings } from "../domain/model-findings.js";
import { pricingServing } from "../domain/model-migration.js";
import { ownershipTag } from "../domain/naming.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import { parseHostVersion, parseRange, satisfies } from "../domain/pack/version-range.js";
import { type HostAdapter, type HostCapabilities, HostError } from "../host/sub2api/index.js";
import type { ResourceRow } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";

const generationOf = (r: ResourceRow) => r.logicalKey.split(":")[0];

/** The host id of the group of the same generation as `r`. */
export function groupOf(rows: ResourceRow[], r: ResourceRow): number | undefined {
  return rows.find((g) => g.resourceType === "group" && generationOf(g) === generationOf(r))
    ?.hostResourceId as number | undefined;
}

/** What the host should show for each recorded resource: the fields relay set when it made them. */
export function expectations(
  rows: ResourceRow[],
  def: ProviderDefinition,
  host: HostFacts,
  installId: string,
  /** Accounts relay's health policy paused (store/health.ts latches): expected unschedulable. */
  latched: ReadonlySet<number> = new Set(),
  /** Mappings a standing model migration set (store/mapping-changes.ts): expected instead of the pack's. */
  migrated: ReadonlyMap<string, unknown> = new Map(),
): RecordedResource[] {
  const mapping = mapProvider(def, host);
  const out: RecordedResource[] = [];
  for (const r of rows) {
    const gid = groupOf(rows, r);
    let expect: Expectation | undefined;
    switch (r.resourceType) {
      case "group":
        expect = {
          type: "group",
          platform: mapping.platform,
          subscription_type: def.group_defaults.subscription_type,
          status: "active",
        };
        break;
      case "account":
        if (gid !== undefined)
          expect = {
            type: "account",
            platform: mapping.platform,
            group_id: gid,
            base_url: mapping.baseUrl,
            model_mapping:
              (migrated.get(`account:${r.hostResourceId}`) as Record<string, string> | undefined) ??
              mapping.modelMapping,
            status: "active",
            schedulable: !latched.has(r.hostResourceId as number),
          };
        break;
      case "channel":
        if (gid !== undefined) expect = { type: "channel", group_id: gid };
        break;
      case "plan":
        if (gid !== undefined) expect = { type: "plan", group_id: gid };
        break;
      case "subscription": {
        const a = r.attrs as { user_id?: number; group_id?: number };
        if (a.user_id && a.group_id)
          expect = { type: "subscription", user_id: a.user_id, group_id: a.group_id };
        break;
      }
    }
    const managed = managedFields(r, def, mapping, installId, migrated.get(`channel:${r.hostResourceId}`));
    if (expect)
      out.push({
        name: r.name,
        hostResourceId: r.hostResourceId as number,
        expect,
        ...(managed ? { managed } : {}),
      });
  }
  return out;
}

/**
 * The other fields relay sent when it made `r` (the same values the saga's create steps send):
 * a limit the pack leaves unset was not sent, and a reused resource keeps the description of the
 * batch that made it.
 */
function managedFields(
  r: ResourceRow,
  def: ProviderDefinition,
  mapping: HostMapping,
  installId: string,
  migratedMapping?: unknown,
): ManagedFields | undefined {
  const description =
    r.origin === "created" && r.batchId
      ? { description: ownershipTag(installId, def.provider_id, r.batchId) }
      : {};
  const g = def.group_defaults;
  switch (r.resourceType) {
    case "group":
      return {
        type: "group",
        rate_multiplier: g.rate_multiplier,
        is_exclusive: g.is_exclusive,
        ...(g.daily_limit_usd !== undefined ? { daily_limit_usd: g.daily_limit_usd } : {}),
        ...(g.weekly_limit_usd !== undefined ? { weekly_limit_usd: g.weekly_limit_usd } : {}),
        ...(g.monthly_limit_usd !== undefined ? { monthly_limit_usd: g.monthly_limit_usd } : {}),
        ...description,
      };
    case "account":
      return {
        type: "account",
        concurrency: def.account_defaults.concurrency,
        priority: def.account_defaults.priority,
      };
    case "channel": {
      const channelMapping = (migratedMapping ?? {}) as Record<string, Record<string, string>>;
      return {
        type: "channel",
        // A migrated channel also prices the old names its aliases keep serving (model-migration.ts).
        model_pricing: pricingServing(mapping.pricing, channelMapping).map((p) => ({
          platform: p.platform,
          models: p.models,
          input_price: p.inputPrice,
          output_price: p.outputPrice,
        })),
        model_mapping: channelMapping,
        ...description,
      };
    }
    case "plan":
      return def.plan
        ? {
            type: "plan",
            price: def.plan.price,
            currency: def.plan.currency,
            validity_days: def.plan.validity_days,
            ...description,
          }
        : undefined;
  }
  return undefined;
}

/** A handful of list calls, never one GET per resource. */
export async function observe(
  adapter: HostAdapter,
  providerId: string,
  caps: HostCapabilities,
  rows: ResourceRow[],
): Promise<Observed> {
  const groupIds = rows.filter((r) => r.resourceType === "group").map((r) => r.hostResourceId as number);
  const [groups, accounts, channels, plans] = await Promise.all([
    adapter.listGroups({ search: `relay-${providerId}` }),
    adapter.listAccounts({ search: `${providerId}-` }),
    caps.channels ? adapter.listChannels({ search: `relay-${providerId}` }) : Promise.resolve(undefined),
    caps.plans ? adapter.listPlans() : Promise.resolve(undefined),
  ]);
  const subscriptions = (
    await Promise.all(groupIds.map((gid) => adapter.listSubscriptions({ groupId: gid })))
  ).flat();
  return { groups, accounts, channels, plans, subscriptions };
}

/** An `incompatible` finding when the host's version left the pack's `host.version_range`. */
export function compatibility(host: HostRow, providerId: string, versionRange: string): Finding[] {
  const hv = host.version ? parseHostVersion(host.version) : undefined;
  const range = parseRange(versionRange);
  if (hv && typeof range !== "string" && satisfies(hv, range)) return [];
  return [
    {
      kind: "incompatible",
      resource_type: "pack",
      name: providerId,
      host_resource_id: null,
      message: `the pack supports sub2api ${versionRange}; the host runs ${host.version}`,
    },
  ];
}

/**
 * What the provider's upstream lists now, read through the host from one of the provider's live
 * accounts (`POST /admin/accounts/:id/models/sync-upstream`, which fetches and returns the list
 * without storing it, account_handler.go:2750-2790@67380eafd) — relay never calls a provider and
 * keeps no key. The first account whose listing works decides; up to three are asked, unless the
 * host refuses the listing for the provider as a whole (a 400). Undefined
 * when the host cannot list (no route, no account, every listing refused): nothing is concluded.
 */
export async function upstreamModelFindings(
  adapter: HostAdapter,
  def: ProviderDefinition,
  host: HostFacts & { caps: HostCapabilities },
  accounts: { id: number; name: string }[],
): Promise<Finding[]> {
  if (!host.caps.models_sync) return [];
  const mapping = mapProvider(def, host);
  for (const account of accounts.slice(0, 3)) {
    let listed: string[];
    try {
      listed = await adapter.syncAccountModels(account.id);
    } catch (err) {
      // A 400 refuses what every account of the provider shares (its platform, its base URL, an
      // upstream that cannot list): asking the next account would only meet the same refusal.
      // Other failures (the upstream refusing this account's key, an account gone) ask the next.
      if (err instanceof HostError && err.status === 400) return [];
      continue;
    }
    if (listed.length === 0) continue;
    return modelFindings(def, mapping.modelMapping, listed, account);
  }
  return [];
}

/** The provider's recorded accounts the host still lists, by id and name. */
export function liveAccountsOf(rows: ResourceRow[], observed: Observed): { id: number; name: string }[] {
  const present = new Set(observed.accounts.map((a) => a.id));
  return rows
    .filter((r) => r.resourceType === "account" && present.has(r.hostResourceId as number))
    .map((r) => ({ id: r.hostResourceId as number, name: r.name }));
}
