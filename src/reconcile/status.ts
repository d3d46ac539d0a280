import { axesOfRow, axesOn, hostReachabilities } from "../app/axes.js";
import type { AppContext } from "../app/context.js";
import type { AccessState } from "../domain/access.js";
import type { Axes, Reachable } from "../domain/axes.js";
import type { DescribedFinding, Finding } from "../domain/drift.js";
import { notFound } from "../domain/errors.js";
import { describeFindings } from "../domain/next-steps.js";
import { findHost, listHostRows } from "../store/hosts.js";
import { listInstalls } from "../store/installs.js";
import { currentProviderDefinitions, getProviderDefinition, providerOwners } from "../store/packs.js";
import { providerFactsRows } from "../store/provider-facts.js";
import { resourcesOf } from "../store/resources.js";
/** One relay account's provider balance, as the host read it. */
export interface AccountBalanceView {
  account_id: number;
  account_name: string;
  success: boolean;
  balance: number | null;
  currency: string | null;
  balances: { currency: string; balance: number }[];
  available: boolean | null;
  fetched_at: number | null;
  error: string | null;
}

export interface ProviderHostStatus {
  host_id: string;
  host_name: string;
  status: string;
  reason: string;
  status_changed_at: string;
  access_state: AccessState;
  /** Is the host as relay recorded it? (domain/axes.ts) */
  sync: Axes["sync"];
  /** Can users be served? `down` when no working account remains or the gateway proof failed. */
  health: Axes["health"];
  /** Whether the host answered its newest probe. */
  host_reachable: Reachable;
  generation: number;
  last_reconcile: {
    run_id: number;
    trigger: string;
    outcome: string;
    started_at: string;
    duration_ms: number | null;
    host_calls: number;
    findings: DescribedFinding[];
  } | null;
  /** Each relay account's provider balance, read from the host when asked (`balance`); absent where the host cannot tell. */
  balances?: AccountBalanceView[];
}

export interface ProviderStatusView {
  provider_id: string;
  hosts: ProviderHostStatus[];
}

export async function providerStatus(
  ctx: AppContext,
  providerId: string,
  hostRef?: string,
): Promise<ProviderStatusView> {
  const rows = await providerFactsRows(ctx, providerId, { hostRef });
  if (rows.length === 0) {
    if (hostRef) await findHost(ctx, hostRef); // HOST_NOT_FOUND when the host itself is unknown
    throw notFound(
      "PROVIDER_NOT_ON_HOST",
      `${providerId} has never been imported${hostRef ? ` on ${hostRef}` : ""}`,
    );
  }
  const hosts: ProviderHostStatus[] = [];
  for (const r of rows) {
    const { reach, axes } = axesOfRow(providerId, r);
    hosts.push({
      host_id: r.hostId,
      host_name: r.hostName,
      status: r.status,
      reason: r.statusReason,
      status_changed_at: r.statusChangedAt,
      access_state: r.accessState as AccessState,
      ...axes,
      host_reachable: reach.reachable,
      generation: r.generation,
      last_reconcile:
        r.runId === null
          ? null
          : {
              run_id: r.runId,
              trigger: r.runTrigger as string,
              outcome: r.runOutcome as string,
              started_at: r.runStartedAt as string,
              duration_ms: r.runDurationMs,
              host_calls: r.runHostCalls ?? 0,
              findings: describeFindings(JSON.parse(r.runFindings ?? "[]") as Finding[], {
                providerId,
                hostName: r.hostName,
              }),
            },
    });
  }
  return { provider_id: providerId, hosts };
}

export interface ResourceView {
  host_id: string;
  type: string;
  name: string;
  host_resource_id: number | null;
  state: string;
  origin: string;
  batch_id: string | null;
  generation: string;
  updated_at: string;
}

export async function providerResources(
  ctx: AppContext,
  providerId: string,
  hostRef?: string,
): Promise<ResourceView[]> {
  await getProviderDefinition(ctx, providerId); // 404 for a provider no installed pack defines
  const hostId = hostRef ? (await findHost(ctx, hostRef)).id : undefined;
  return (await resourcesOf(ctx, providerId, hostId)).map((r) => ({
    host_id: r.hostId,
    type: r.resourceType,
    name: r.name,
    host_resource_id: r.hostResourceId,
    state: r.state,
    origin: r.origin,
    batch_id: r.batchId,
    generation: r.logicalKey.split(":")[0] ?? "",
    updated_at: r.updatedAt,
  }));
}

export interface ProviderListItem {
  provider_id: string;
  display_name: string;
  pack_id: string;
  hosts: {
    host_name: string;
    status: string;
    access_state: string;
    sync: Axes["sync"]["state"];
    health: Axes["health"]["state"];
    host_reachable: Reachable;
  }[];
}

/** Every provider of the installed packs, with its status on each host it was imported to. */
export async function listProviders(ctx: AppContext, hostRef?: string): Promise<ProviderListItem[]> {
  const only = hostRef === undefined ? undefined : await findHost(ctx, hostRef);
  const names = new Map((await listHostRows(ctx)).map((h) => [h.id, h.name]));
  const owners = await providerOwners(ctx);
  const installs = (await listInstalls(ctx)).filter((i) => only === undefined || i.hostId === only.id);
  const reach = await hostReachabilities(ctx);
  const onHosts = new Map<number, ProviderListItem["hosts"][number]>();
  for (const i of installs) {
    const axes = await axesOn(ctx, i, reach.get(i.hostId));
    onHosts.set(i.id, {
      host_name: names.get(i.hostId) ?? i.hostId,
      status: i.status,
      access_state: i.accessState,
      sync: axes.sync.state,
      health: axes.health.state,
      host_reachable: reach.get(i.hostId)?.reachable ?? "unknown",
    });
  }
  return (await currentProviderDefinitions(ctx)).map((def) => ({
    provider_id: def.provider_id,
    display_name: def.display_name,
    pack_id: owners.get(def.provider_id) ?? "",
    hosts: installs
      .filter((i) => i.providerId === def.provider_id)
      .map((i) => onHosts.get(i.id) as ProviderListItem["hosts"][number]),
  }));
}
