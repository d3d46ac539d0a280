import type { HostClient } from "./client.js";
import { isHostError } from "./errors.js";
import { listAll } from "./paginate.js";
import type { CreateGroupInput, HostGroup, ListQuery } from "./types.js";
import { Wire } from "./wire.js";

const BASE = "/api/v1/admin/groups";

export function toGroup(operation: string, value: unknown): HostGroup {
  const w = Wire.of(operation, value);
  return {
    id: w.num("id"),
    name: w.str("name"),
    description: w.str("description", ""),
    platform: w.str("platform", "anthropic"),
    status: w.str("status", "active"),
    subscriptionType: w.str("subscription_type", "standard"),
    isExclusive: w.bool("is_exclusive", false),
    rateMultiplier: w.optNum("rate_multiplier", 0),
    dailyLimitUsd: w.nullableNum("daily_limit_usd"),
    weeklyLimitUsd: w.nullableNum("weekly_limit_usd"),
    monthlyLimitUsd: w.nullableNum("monthly_limit_usd"),
    // group_handler.go@02c82a9a (index copy, ≥ 0.2.4): simple mode answers without it.
    ...(w.value.subscription_type === undefined ? { reducedShape: true as const } : {}),
  };
}

export function listGroups(
  client: HostClient,
  pageSize: number,
  query: ListQuery = {},
): Promise<HostGroup[]> {
  return listAll(
    client,
    {
      operation: "groups.list",
      path: BASE,
      query: { search: query.search, platform: query.platform, status: query.status },
    },
    pageSize,
    (item) => toGroup("groups.list", item),
  );
}

export async function createGroup(client: HostClient, input: CreateGroupInput): Promise<HostGroup> {
  const body: Record<string, unknown> = {
    name: input.name,
    description: input.description,
    platform: input.platform,
    subscription_type: input.subscriptionType,
    rate_multiplier: input.rateMultiplier,
    is_exclusive: input.isExclusive,
  };
  // Omitted = unset; null = unlimited (contract §4.2).
  if (input.dailyLimitUsd !== undefined) body.daily_limit_usd = input.dailyLimitUsd;
  if (input.weeklyLimitUsd !== undefined) body.weekly_limit_usd = input.weeklyLimitUsd;
  if (input.monthlyLimitUsd !== undefined) body.monthly_limit_usd = input.monthlyLimitUsd;
  const data = await client.envelope({
    operation: "groups.create",
    method: "POST",
    path: BASE,
    body,
    retry: "write",
  });
  return toGroup("groups.create", data);
}

export async function deleteGroup(client: HostClient, id: number): Promise<"deleted" | "already_gone"> {
  return deleteById(client, "groups.delete", `${BASE}/${id}`);
}

/** DELETE that treats 404 as "already gone", so rollbacks can be re-run. */
export async function deleteById(
  client: HostClient,
  operation: string,
  path: string,
): Promise<"deleted" | "already_gone"> {
  try {
    await client.envelope({ operation, method: "DELETE", path, retry: "read" });
    return "deleted";
  } catch (err) {
    if (isHostError(err) && err.status === 404 && !err.routeMissing) return "already_gone";
    throw err;
  }
}
