import pLimit from "p-limit";
import { ApiError, all, get, seg } from "./api";
import type { AccessStatus, ProviderListItem, ProviderStatus } from "./types";

/** At most `n` requests in flight: a board with 200 providers must not flood its own server. */
export function mapLimited<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const limit = pLimit(n);
  return Promise.all(items.map((item) => limit(() => fn(item))));
}

export interface ProviderView {
  provider: ProviderListItem;
  status: ProviderStatus;
}

/** Every provider relay has imported somewhere, with its status on each host. */
export async function providerViews(): Promise<ProviderView[]> {
  const providers = (await all<ProviderListItem>("/api/providers")).filter((p) => p.hosts.length > 0);
  return mapLimited(providers, 6, async (provider) => ({
    provider,
    status: await get<ProviderStatus>(`/api/providers/${seg(provider.provider_id)}/status`),
  }));
}

/** The last recorded gateway proof, or null when access was never checked (the board never probes). */
export async function lastProof(providerId: string, hostId: string): Promise<AccessStatus | null> {
  try {
    return await get<AccessStatus>(
      `/api/providers/${seg(providerId)}/access/status?host_id=${encodeURIComponent(hostId)}`,
    );
  } catch (err) {
    if (err instanceof ApiError && err.code === "NO_ACCESS_RECORD") return null;
    throw err;
  }
}
