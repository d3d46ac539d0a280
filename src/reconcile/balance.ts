import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { mapProvider } from "../domain/mapping.js";
import { compareVersions, parseHostVersion } from "../domain/pack/version-range.js";
import { type AccountBalance, isHostError } from "../host/sub2api/index.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { getProviderDefinition } from "../store/packs.js";
import { liveResources } from "../store/resources.js";
import { mapLimit } from "../util/concurrency.js";
import { printable } from "../util/sanitize.js";
import type { AccountBalanceView, ProviderStatusView } from "./status.js";

/** The build that added `GET /admin/cn-providers/accounts/:id/balance` (routes/admin.go:489-497@67380eafd). */
const FIRST_BALANCE_BUILD = [0, 1, 178];
/** The platforms whose pay-as-you-go accounts the host can read a balance for (cn_provider_balance_service.go:118-121). */
const BALANCE_PLATFORMS = ["kimi", "deepseek"];
/**
 * Where the host asks for a balance whatever the account's base URL: Kimi only at api.moonshot.cn
 * (`cnBalanceURL`, service/cn_provider_balance_service.go:290-305@67380eafd, the same in 0.1.179).
 * An account of another Kimi platform (api.moonshot.ai) would be answered with that platform's
 * refusal of its key, which reads like a revoked key: relay does not ask, the host cannot tell.
 * DeepSeek is asked at the account's own base URL.
 */
const FIXED_BALANCE_HOST: Record<string, string> = { kimi: "api.moonshot.cn" };

const hostnameOf = (url: string) => {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return "";
  }
};

/**
 * Each relay account's balance on one host, where the host knows it: builds 0.1.178+ for Kimi
 * and DeepSeek pay-as-you-go accounts on their own platform. Undefined (no field, no error)
 * elsewhere, and on a build that turns out to lack the route. Relay calls only the host; the
 * host asks the provider with the key it holds (and keeps the result in the account's extra).
 */
export async function hostBalances(
  ctx: AppContext,
  hostRef: string,
  providerId: string,
): Promise<AccountBalanceView[] | undefined> {
  const host = await findHost(ctx, hostRef);
  const version = host.version ? parseHostVersion(host.version) : undefined;
  if (!version || compareVersions(version, FIRST_BALANCE_BUILD) < 0) return undefined;
  const { definition: def } = await getProviderDefinition(ctx, providerId);
  const caps = await latestCapabilities(ctx, host.id);
  const mapping = mapProvider(def, { version: host.version, caps });
  if (!BALANCE_PLATFORMS.includes(mapping.platform) || def.account_mode === "coding") return undefined;
  const fixed = FIXED_BALANCE_HOST[mapping.platform];
  if (fixed !== undefined && hostnameOf(mapping.baseUrl) !== fixed) return undefined;
  const accounts = (await liveResources(ctx, host.id, providerId)).filter(
    (r) => r.resourceType === "account" && r.hostResourceId !== null,
  );
  const adapter = await hostAdapterFor(ctx, host);
  let missing = false;
  const out: AccountBalanceView[] = [];
  await mapLimit(accounts, 4, async (r) => {
    if (missing) return;
    const id = r.hostResourceId as number;
    let b: AccountBalance | undefined;
    try {
      b = await adapter.getAccountBalance(id);
    } catch (err) {
      const why = isHostError(err) ? `${err.machineCode}: ${err.message}` : (err as Error).message;
      out.push({ ...empty(id, r.name), error: printable(why, { max: 200 }) });
      return;
    }
    if (!b) {
      missing = true;
      return;
    }
    out.push({
      account_id: id,
      account_name: r.name,
      success: b.success,
      balance: b.success ? b.balance : null,
      currency: b.currency ?? null,
      balances: b.balances.map((x) => ({ currency: printable(x.currency, { max: 8 }), balance: x.balance })),
      available: b.success ? b.available : null,
      fetched_at: b.fetchedAt || null,
      error: b.error ? printable(b.error, { max: 200 }) : null,
    });
  });
  if (missing) return undefined;
  recordBalanceMetric(ctx, host.name, providerId, out);
  return out.sort((a, b) => a.account_id - b.account_id);
}

const empty = (id: number, name: string): AccountBalanceView => ({
  account_id: id,
  account_name: name,
  success: false,
  balance: null,
  currency: null,
  balances: [],
  available: null,
  fetched_at: null,
  error: null,
});

/** `relay_account_balance{host,provider,currency}`: the lowest balance among the accounts, per currency. */
function recordBalanceMetric(ctx: AppContext, host: string, provider: string, views: AccountBalanceView[]) {
  const lowest = new Map<string, number>();
  for (const v of views)
    for (const b of v.balances) {
      if (b.currency === "") continue;
      lowest.set(b.currency, Math.min(lowest.get(b.currency) ?? Number.POSITIVE_INFINITY, b.balance));
    }
  for (const [currency, balance] of lowest)
    ctx.metrics.accountBalance.set({ host, provider, currency }, balance);
}

/** Provider status with each host's account balances, where the host knows them. */
export async function withBalances(ctx: AppContext, view: ProviderStatusView): Promise<ProviderStatusView> {
  const hosts = [];
  for (const h of view.hosts) {
    const balances = await hostBalances(ctx, h.host_id, view.provider_id);
    hosts.push(balances ? { ...h, balances } : h);
  }
  return { ...view, hosts };
}
