import type { HostFacts } from "../domain/compat.js";
import type { Expectation, Finding, Observed, RecordedResource } from "../domain/drift.js";
import type { ManagedFields } from "../domain/drift-fields.js";
import { type HostMapping, mapProvider } from "../domain/mapping.js";
import { ownershipTag } from "../domain/naming.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import { parseHostVersion, parseRange, satisfies } from "../domain/pack/version-range.js";
import type { HostAdapter, HostCapabilities } from "../host/sub2api/index.js";
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
            model_mapping: mapping.modelMapping,
            status: "active",
            schedulable: true,
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
    const managed = managedFields(r, def, mapping, installId);
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
    case "channel":
      return {
        type: "channel",
        model_pricing: mapping.pricing.map((p) => ({
          platform: p.platform,
          models: p.models,
          input_price: p.inputPrice,
          output_price: p.outputPrice,
        })),
        model_mapping: {},
        ...description,
      };
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
