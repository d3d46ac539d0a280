import type { AppContext } from "../app/context.js";
import type { Observed } from "../domain/drift.js";
import type { HostAdapter, HostCapabilities } from "../host/sub2api/index.js";
import type { ProbeSessionCache } from "../steps/access-proof.js";
import { nowIso } from "../store/db.js";
import { changedSince, type ResourceRow } from "../store/resources.js";

/** Every relay resource kind of one host, read once per pass (5 paged list calls). */
interface Snapshot {
  takenAt: string;
  observed: { [K in keyof Observed]-?: NonNullable<Observed[K]> };
}

/**
 * One reconcile pass over a host's providers shares what does not depend on the provider: one set
 * of list calls (groups and channels named `relay-…`, accounts carrying this install's id, plans,
 * subscriptions), one probe-user lookup and login, one list of the probe user's keys. Tests share
 * the host's adaptive concurrency limit, so all providers' re-tests form one pool per host.
 *
 * Freshness: a snapshot is used for a provider only when nothing of that provider changed in
 * relay's records since the snapshot was taken (an import or rollback that finished meanwhile);
 * otherwise that provider's resources are listed again. Changes made by hand on the host after
 * the snapshot are seen by the next run.
 */
export class HostPass {
  #snapshot: Promise<Snapshot> | undefined;
  readonly probe: ProbeSessionCache = {};

  constructor(
    private readonly ctx: AppContext,
    private readonly hostId: string,
  ) {}

  /** The provider's slice of the host's resources, from the snapshot when it is fresh for it. */
  async observe(
    adapter: HostAdapter,
    providerId: string,
    caps: HostCapabilities,
    rows: ResourceRow[],
  ): Promise<Observed | undefined> {
    this.#snapshot ??= this.#take(adapter, caps);
    const s = await this.#snapshot;
    if (await changedSince(this.ctx, this.hostId, providerId, s.takenAt)) return undefined;
    const groupIds = new Set(
      rows.filter((r) => r.resourceType === "group").map((r) => r.hostResourceId as number),
    );
    const { groups, accounts, channels, plans, subscriptions } = s.observed;
    return {
      groups: groups.filter((g) => g.name.startsWith(`relay-${providerId}-`)),
      accounts: accounts.filter((a) => a.name.startsWith(`${providerId}-`)),
      channels: caps.channels ? channels.filter((c) => c.name.startsWith(`relay-${providerId}-`)) : undefined,
      plans: caps.plans ? plans : undefined,
      subscriptions: subscriptions.filter((x) => groupIds.has(x.groupId)),
    };
  }

  async #take(adapter: HostAdapter, caps: HostCapabilities): Promise<Snapshot> {
    const takenAt = nowIso(this.ctx);
    const [groups, accounts, channels, plans, subscriptions] = await Promise.all([
      adapter.listGroups({ search: "relay-" }),
      adapter.listAccounts({ search: this.ctx.installId }),
      caps.channels ? adapter.listChannels({ search: "relay-" }) : Promise.resolve([]),
      caps.plans ? adapter.listPlans() : Promise.resolve([]),
      adapter.listSubscriptions(),
    ]);
    return { takenAt, observed: { groups, accounts, channels, plans, subscriptions } };
  }
}
