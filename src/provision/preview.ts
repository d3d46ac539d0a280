import { createHash } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError, invalidInput } from "../domain/errors.js";
import { fromHostError } from "../domain/host-errors.js";
import { type HostMapping, mapProvider } from "../domain/mapping.js";
import {
  accountName,
  channelName,
  groupName,
  logicalKey,
  parseOwnership,
  planName,
} from "../domain/naming.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import { parseHostVersion, parseRange, satisfies } from "../domain/pack/version-range.js";
import type {
  HostAccount,
  HostAdapter,
  HostCapabilities,
  HostChannel,
  HostGroup,
  HostPlan,
} from "../host/sub2api/index.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { getProviderDefinition } from "../store/packs.js";
import { getInstall, type ResourceRow, type ResourceType, resourceIndex } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import { type IntakeKey, intakeKeys } from "./keys.js";

export type Action = "create" | "reuse" | "conflict" | "skip";

export interface SubscriptionTarget {
  userId: number;
  days?: number;
}

export interface ImportRequest {
  hostRef: string;
  providerId: string;
  keys: string | Buffer | string[];
  mode: "strict" | "partial";
  accessMode?: "subscription" | "self-service";
  subscribe?: SubscriptionTarget[];
  withPlan?: boolean;
  maxKeys?: number;
}

export interface PlannedResource {
  type: Exclude<ResourceType, "account" | "subscription" | "probe_user" | "probe_key">;
  name: string;
  action: Action;
  reason: string;
  host_resource_id: number | null;
}

export interface PlannedKey {
  position: number;
  line: number;
  key: string;
  action: Action;
  reason: string;
  account_name: string;
  host_resource_id: number | null;
}

export interface PlannedSubscription {
  user_id: number;
  validity_days: number;
  action: Action;
  reason: string;
}

export interface ImportPlan {
  host_id: string;
  host_name: string;
  host_version: string | null;
  provider_id: string;
  pack_version: string;
  mode: "strict" | "partial";
  access_mode: "subscription" | "self-service" | null;
  generation: number;
  mapping: {
    platform: string;
    via_fallback: boolean;
    base_url: string;
    model_mapping: Record<string, string>;
    extra: Record<string, unknown>;
  };
  resources: PlannedResource[];
  keys: PlannedKey[];
  subscriptions: PlannedSubscription[];
  summary: {
    keys: number;
    create: number;
    reuse: number;
    conflict: number;
    skip: number;
    duplicates: number;
    ignored_lines: number;
    malformed: number;
  };
  blocked: boolean;
  blocked_reasons: string[];
  warnings: string[];
  fingerprint: string;
}

/** Everything execute needs beyond the printable plan; holds the key secrets in memory only. */
export interface PlanInternals {
  host: HostRow;
  caps: HostCapabilities;
  def: ProviderDefinition;
  mapping: HostMapping;
  adapter: HostAdapter;
  keys: IntakeKey[];
  existing: { group?: HostGroup; channel?: HostChannel; plan?: HostPlan; accounts: Map<string, HostAccount> };
  records: Map<string, ResourceRow>;
}

/**
 * Preview: computes what an import would do, reading the host but never writing to it.
 * The same function runs at the start of execute, so what is executed is what was shown.
 */
export async function buildPlan(
  ctx: AppContext,
  req: ImportRequest,
): Promise<{ plan: ImportPlan; internals: PlanInternals }> {
  const host = findHost(ctx, req.hostRef);
  if (host.status !== "supported") {
    throw new AppError(
      "host_unsupported",
      "HOST_UNSUPPORTED",
      `host "${host.name}" is ${host.status}: ${host.statusReasons.map((r) => r.message).join("; ")}`,
      {
        hint: `Fix what blocks it, then run \`relay host probe ${host.name}\`.`,
      },
    );
  }
  const { definition: def, packVersion, versionRange } = getProviderDefinition(ctx, req.providerId);
  const hostVersion = host.version ? parseHostVersion(host.version) : undefined;
  const range = parseRange(versionRange);
  if (!hostVersion || typeof range === "string" || !satisfies(hostVersion, range)) {
    throw new AppError(
      "host_unsupported",
      "PACK_HOST_INCOMPATIBLE",
      `the pack of "${req.providerId}" supports sub2api ${versionRange}; host "${host.name}" runs ${host.version ?? "an unknown version"}`,
      {
        hint: "Install a pack version whose host.version_range includes this host, or upgrade sub2api.",
      },
    );
  }
  if (req.accessMode === "subscription" && def.group_defaults.subscription_type !== "subscription") {
    throw invalidInput(
      "ACCESS_MODE_MISMATCH",
      `access mode "subscription" needs a subscription group, but the pack makes "${def.group_defaults.subscription_type}" groups`,
    );
  }
  for (const t of req.subscribe ?? []) {
    if (!Number.isInteger(t.userId) || t.userId <= 0)
      throw invalidInput("INVALID_SUBSCRIBER", `user id ${t.userId} is not a positive integer`);
    if (t.days !== undefined && (!Number.isInteger(t.days) || t.days < 1 || t.days > 36500)) {
      throw invalidInput(
        "INVALID_SUBSCRIBER",
        `validity of ${t.days} days for user ${t.userId} is outside 1..36500`,
      );
    }
  }
  const caps = latestCapabilities(ctx, host.id);
  const mapping = mapProvider(def, caps);
  const intake = intakeKeys(req.keys, ctx.secrets, def.key_pattern, req.maxKeys);
  // Read-only: the install row is created when an import actually runs.
  const gen = getInstall(ctx, host.id, req.providerId)?.generation ?? 1;
  const adapter = hostAdapterFor(ctx, host);
  const warnings: string[] = [];
  if (mapping.viaFallback)
    warnings.push(
      `host has no "${def.platforms.preferred}" platform: accounts use "${mapping.platform}" with force_chat_completions`,
    );
  if (!caps.chat_completions)
    warnings.push("host has no /v1/chat/completions: access cannot be proven on it");

  const names = {
    group: groupName(def.provider_id, gen),
    channel: channelName(def.provider_id, gen),
    plan: planName(def.provider_id, gen),
  };
  const existing: PlanInternals["existing"] = { accounts: new Map() };
  try {
    existing.group = (await adapter.listGroups({ search: names.group })).find((g) => g.name === names.group);
    if (caps.channels)
      existing.channel = (await adapter.listChannels({ search: names.channel })).find(
        (c) => c.name === names.channel,
      );
    if (caps.plans && req.withPlan)
      existing.plan = (await adapter.listPlans()).find((p) => p.name === names.plan);
    for (const a of await adapter.listAccounts({ search: `${def.provider_id}-` }))
      existing.accounts.set(a.name, a);
  } catch (err) {
    throw fromHostError(err, host.baseUrl);
  }

  const records = resourceIndex(ctx, host.id, def.provider_id);
  const recorded = (type: ResourceType, key: string) => records.get(`${type}|${key}`);
  const blockedReasons: string[] = [];
  const resources: PlannedResource[] = [];

  const planResource = (
    type: PlannedResource["type"],
    name: string,
    onHost: { id: number; description?: string } | undefined,
    wanted: string | undefined,
  ) => {
    if (wanted) {
      resources.push({ type, name, action: "skip", reason: wanted, host_resource_id: null });
      return;
    }
    const row = recorded(type, logicalKey(gen, type));
    const live = row && ["created", "reused"].includes(row.state);
    if (live && onHost && row.hostResourceId === onHost.id) {
      resources.push({
        type,
        name,
        action: "reuse",
        reason: `recorded by batch ${row.batchId}`,
        host_resource_id: onHost.id,
      });
    } else if (live) {
      resources.push({
        type,
        name,
        action: "conflict",
        reason: `recorded ${type} #${row.hostResourceId} is missing on the host; run \`relay provider reconcile\``,
        host_resource_id: row.hostResourceId,
      });
      blockedReasons.push(`${type} ${name} is recorded but missing on the host`);
    } else if (onHost) {
      const owner = parseOwnership(onHost.description);
      if (owner?.providerId === def.provider_id) {
        resources.push({
          type,
          name,
          action: "reuse",
          reason: `adopting ${type} left by batch ${owner.batchId}`,
          host_resource_id: onHost.id,
        });
      } else {
        resources.push({
          type,
          name,
          action: "conflict",
          reason: `a ${type} named "${name}" exists on the host and is not managed by relay`,
          host_resource_id: onHost.id,
        });
        blockedReasons.push(`${type} name "${name}" is taken on the host`);
      }
    } else {
      resources.push({ type, name, action: "create", reason: "not on the host yet", host_resource_id: null });
    }
  };
  planResource("group", names.group, existing.group, undefined);
  planResource(
    "channel",
    names.channel,
    existing.channel,
    !caps.channels
      ? "host has no channels"
      : mapping.pricing.length === 0
        ? "pack has no pricing for this provider"
        : undefined,
  );
  if (req.withPlan) {
    planResource(
      "plan",
      names.plan,
      existing.plan ? { id: existing.plan.id, description: existing.plan.description } : undefined,
      !caps.plans
        ? "host has no payment plans"
        : !def.plan
          ? "pack defines no plan for this provider"
          : undefined,
    );
  }

  const keys: PlannedKey[] = intake.keys.map((k) => {
    const name = accountName(def.provider_id, k.hash, gen);
    const base = { position: k.position, line: k.line, key: k.mask, account_name: name };
    if (k.malformed)
      return {
        ...base,
        action: "skip",
        reason: `does not match the provider's key_pattern (line ${k.line})`,
        host_resource_id: null,
      };
    const row = recorded("account", logicalKey(gen, "account", k.hash));
    const onHost = existing.accounts.get(row?.name ?? name);
    if (row && ["created", "reused"].includes(row.state)) {
      if (onHost && onHost.id === row.hostResourceId)
        return {
          ...base,
          action: "reuse",
          reason: `already imported by batch ${row.batchId}`,
          host_resource_id: onHost.id,
        };
      return {
        ...base,
        action: "create",
        reason: `recorded account #${row.hostResourceId} is missing on the host; it will be re-created`,
        host_resource_id: null,
      };
    }
    if (onHost) {
      const owner = parseOwnership(onHost.notes);
      if (owner?.providerId === def.provider_id)
        return {
          ...base,
          action: "reuse",
          reason: `adopting account left by batch ${owner.batchId}`,
          host_resource_id: onHost.id,
        };
      return {
        ...base,
        action: "conflict",
        reason: `an account named "${name}" exists and is not managed by relay`,
        host_resource_id: onHost.id,
      };
    }
    return { ...base, action: "create", reason: "new key", host_resource_id: null };
  });
  if (req.mode === "strict" && keys.some((k) => k.action === "conflict"))
    blockedReasons.push("strict mode: some keys conflict with accounts on the host");
  if (keys.every((k) => k.action === "skip" || k.action === "conflict"))
    blockedReasons.push("no key can be imported");

  const subscriptions: PlannedSubscription[] = [];
  if ((req.subscribe ?? []).length > 0) {
    let current: { userId: number; status: string }[] = [];
    if (existing.group && def.group_defaults.subscription_type === "subscription") {
      current = await adapter.listSubscriptions({ groupId: existing.group.id }).catch((err) => {
        throw fromHostError(err, host.baseUrl);
      });
    }
    for (const t of req.subscribe ?? []) {
      const days = t.days ?? def.plan?.validity_days ?? 30;
      if (def.group_defaults.subscription_type !== "subscription") {
        subscriptions.push({
          user_id: t.userId,
          validity_days: days,
          action: "skip",
          reason: "the provider's group is not a subscription group",
        });
      } else if (current.some((s) => s.userId === t.userId && s.status === "active")) {
        subscriptions.push({
          user_id: t.userId,
          validity_days: days,
          action: "reuse",
          reason: "user already holds an active subscription to the group",
        });
      } else {
        subscriptions.push({
          user_id: t.userId,
          validity_days: days,
          action: "create",
          reason: "assign a subscription",
        });
      }
    }
  }

  const all = [...resources.map((r) => r.action), ...keys.map((k) => k.action)];
  const count = (a: Action) => all.filter((x) => x === a).length;
  const fingerprint = createHash("sha256")
    .update(
      JSON.stringify({
        version: host.version,
        group: existing.group ? [existing.group.id, existing.group.name, existing.group.status] : null,
        channel: existing.channel ? [existing.channel.id, existing.channel.groupIds] : null,
        plan: existing.plan?.id ?? null,
        accounts: [...existing.accounts.values()].map((a) => [a.id, a.name]).sort(),
        keys: intake.keys.map((k) => k.hash),
      }),
    )
    .digest("hex");
  const plan: ImportPlan = {
    host_id: host.id,
    host_name: host.name,
    host_version: host.version,
    provider_id: def.provider_id,
    pack_version: packVersion,
    mode: req.mode,
    access_mode: req.accessMode ?? null,
    generation: gen,
    mapping: {
      platform: mapping.platform,
      via_fallback: mapping.viaFallback,
      base_url: mapping.baseUrl,
      model_mapping: mapping.modelMapping,
      extra: mapping.extra,
    },
    resources,
    keys,
    subscriptions,
    summary: {
      keys: keys.length,
      create: count("create"),
      reuse: count("reuse"),
      conflict: count("conflict"),
      skip: count("skip"),
      duplicates: intake.duplicates,
      ignored_lines: intake.ignoredLines,
      malformed: intake.malformed,
    },
    blocked: blockedReasons.length > 0,
    blocked_reasons: blockedReasons,
    warnings,
    fingerprint,
  };
  return { plan, internals: { host, caps, def, mapping, adapter, keys: intake.keys, existing, records } };
}
