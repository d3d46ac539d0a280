import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { providerSupport } from "../domain/compat.js";
import { AppError, invalidInput } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { type HostMapping, mapProvider } from "../domain/mapping.js";
import { accountName, channelName, groupName, logicalKey, planName } from "../domain/naming.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import { parseHostVersion, parseRange, satisfies } from "../domain/pack/version-range.js";
import {
  decidePlan,
  type Observed,
  type PlanOptions,
  planFingerprint,
  type RecordedRef,
  type SharedResourceType,
} from "../domain/plan.js";
import type { HostAdapter, HostCapabilities } from "../host/sub2api/index.js";
import { callHost } from "../steps/host-call.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { getInstall } from "../store/installs.js";
import { getProviderDefinition } from "../store/packs.js";
import { resourceIndex } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import { mapLimit } from "../util/concurrency.js";
import { intakeKeys } from "./keys.js";
import type { ImportPlan, ImportRequest, PlanInternals } from "./types.js";

/**
 * Preview: computes what an import would do, reading the host but never writing to it.
 * The same function runs at the start of execute, so what is executed is what was shown.
 * Observe (host reads) → decide (`decidePlan`, pure).
 */
export async function buildPlan(
  ctx: AppContext,
  req: ImportRequest,
): Promise<{ plan: ImportPlan; internals: PlanInternals }> {
  const host = await findHost(ctx, req.hostRef);
  const {
    definition: def,
    packVersion,
    versionRange,
    keyPatternChecked,
  } = await getProviderDefinition(ctx, req.providerId);
  checkRequest(host, def, versionRange, req);
  const caps = await latestCapabilities(ctx, host.id);
  refuseUnservable(host, def, caps);
  const mapping = mapProvider(def, { version: host.version, caps });
  const intake = await intakeKeys(req.keys, ctx.secrets, def.key_pattern, req.maxKeys, keyPatternChecked);
  // Read-only: the install row is created when an import actually runs.
  const gen = (await getInstall(ctx, host.id, req.providerId))?.generation ?? 1;
  const records = await resourceIndex(ctx, host.id, def.provider_id);
  // A live record keeps its name: a channel `reconcile --heal` re-created carries a suffix.
  const recordedName = (type: SharedResourceType, fresh: string) => {
    const r = records.get(`${type}|${logicalKey(gen, type)}`);
    return r && (r.state === "created" || r.state === "reused") ? r.name : fresh;
  };
  const names: Record<SharedResourceType, string> = {
    group: recordedName("group", groupName(def.provider_id, ctx.installId, gen)),
    channel: recordedName("channel", channelName(def.provider_id, ctx.installId, gen)),
    plan: recordedName("plan", planName(def.provider_id, ctx.installId, gen)),
  };
  const adapter = await hostAdapterFor(ctx, host);
  const subscriptionGroup = def.group_defaults.subscription_type === "subscription";
  const observed = await callHost(host, () =>
    observeHost(adapter, caps, def, names, {
      withPlan: req.withPlan === true,
      subscriptions: (req.subscribe ?? []).length > 0 && subscriptionGroup,
      users: subscriptionGroup ? [...new Set((req.subscribe ?? []).map((t) => t.userId))] : [],
    }),
  );
  const options: PlanOptions = {
    providerId: def.provider_id,
    generation: gen,
    mode: req.mode,
    names,
    installId: ctx.installId,
    accountName: (hash) => accountName(def.provider_id, hash, ctx.installId, gen),
    notWanted: notWanted(caps, def, mapping),
    withPlan: req.withPlan === true,
    subscriptionGroup,
    defaultDays: def.plan?.validity_days ?? 30,
    subscribe: req.subscribe ?? [],
    intake: { duplicates: intake.duplicates, ignoredLines: intake.ignoredLines, malformed: intake.malformed },
  };
  const decision = decidePlan(records as Map<string, RecordedRef>, observed, intake.keys, options);
  const body: Omit<ImportPlan, "fingerprint"> = {
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
    resources: decision.resources,
    keys: decision.keys,
    subscriptions: decision.subscriptions,
    summary: decision.summary,
    blocked: decision.blockedReasons.length > 0,
    no_usable_key: decision.noUsableKey,
    blocked_reasons: decision.blockedReasons,
    warnings: planWarnings(def, mapping, caps),
  };
  const { host_name: _display, ...decided } = body;
  const plan: ImportPlan = {
    ...body,
    fingerprint: planFingerprint(host.version, observed, intake.keys, {
      ...decided,
      with_plan: req.withPlan === true,
    }),
  };
  return { plan, internals: { host, caps, def, mapping, adapter, keys: intake.keys, observed, records } };
}

/** Refusals that need no host call: an unsupported host, an incompatible pack, bad targets. */
export function checkRequest(
  host: HostRow,
  def: ProviderDefinition,
  versionRange: string,
  req: ImportRequest,
) {
  if (host.status !== "supported") {
    throw new AppError(
      "host_unsupported",
      "HOST_UNSUPPORTED",
      `host "${host.name}" is ${host.status}: ${host.statusReasons.map((r) => r.message).join("; ")}`,
      { hint: hint`Fix what blocks it, then run ${act.hostProbe(host.name)}.` },
    );
  }
  const hostVersion = host.version ? parseHostVersion(host.version) : undefined;
  const range = parseRange(versionRange);
  if (!hostVersion || typeof range === "string" || !satisfies(hostVersion, range)) {
    throw new AppError(
      "host_unsupported",
      "PACK_HOST_INCOMPATIBLE",
      `the pack of "${req.providerId}" supports sub2api ${versionRange}; host "${host.name}" runs ${host.version ?? "an unknown version"}`,
      { hint: "Install a pack version whose host.version_range includes this host, or upgrade sub2api." },
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
}

/** A build that cannot test and serve this provider is refused before any host read or write. */
export function refuseUnservable(host: HostRow, def: ProviderDefinition, caps: HostCapabilities) {
  const support = providerSupport(def, { version: host.version, caps });
  if (support.status === "supported") return;
  throw new AppError(
    "host_unsupported",
    "PROVIDER_UNSUPPORTED_ON_HOST",
    `host "${host.name}" cannot serve ${def.provider_id}: ${support.reason}`,
    {
      hint: support.firstWorking
        ? `Upgrade sub2api to ${support.firstWorking} or later, then run \`relay host probe ${host.name}\`.`
        : `Run \`relay host show ${host.name}\` for what this build can serve.`,
      details: { reason_code: support.code, first_working_version: support.firstWorking ?? null },
    },
  );
}

/** The host reads a plan needs: the provider's named resources, its accounts, the group's subscriptions. */
async function observeHost(
  adapter: HostAdapter,
  caps: HostCapabilities,
  def: ProviderDefinition,
  names: Record<SharedResourceType, string>,
  want: { withPlan: boolean; subscriptions: boolean; users: number[] },
): Promise<Observed> {
  const [groups, channels, plans, accounts] = await Promise.all([
    adapter.listGroups({ search: names.group }),
    caps.channels ? adapter.listChannels({ search: names.channel }) : Promise.resolve([]),
    caps.plans && want.withPlan ? adapter.listPlans() : Promise.resolve([]),
    adapter.listAccounts({ search: `${def.provider_id}-` }),
  ]);
  const group = groups.find((g) => g.name === names.group);
  const channel = channels.find((c) => c.name === names.channel);
  const plan = plans.find((p) => p.name === names.plan);
  const subscriptions =
    group && want.subscriptions ? await adapter.listSubscriptions({ groupId: group.id }) : [];
  const missingUsers: number[] = [];
  await mapLimit(want.users, 4, async (id) => {
    if (!(await adapter.getUser(id))) missingUsers.push(id);
  });
  return {
    ...(group
      ? { group: { id: group.id, name: group.name, tag: group.description, detail: group.status } }
      : {}),
    ...(channel
      ? {
          channel: { id: channel.id, name: channel.name, tag: channel.description, detail: channel.groupIds },
        }
      : {}),
    ...(plan ? { plan: { id: plan.id, name: plan.name, tag: plan.description } } : {}),
    accounts: new Map(accounts.map((a) => [a.name, { id: a.id, name: a.name, tag: a.notes }])),
    subscriptions,
    missingUsers: missingUsers.sort((a, b) => a - b),
  };
}

function notWanted(caps: HostCapabilities, def: ProviderDefinition, mapping: HostMapping) {
  return {
    ...(!caps.channels
      ? { channel: "host has no channels" }
      : mapping.pricing.length === 0
        ? { channel: "pack has no pricing for this provider" }
        : {}),
    ...(!caps.plans
      ? { plan: "host has no payment plans" }
      : !def.plan
        ? { plan: "pack defines no plan for this provider" }
        : {}),
  };
}

function planWarnings(def: ProviderDefinition, mapping: HostMapping, caps: HostCapabilities): string[] {
  const warnings: string[] = [];
  if (mapping.viaFallback)
    warnings.push(
      `host has no "${def.platforms.preferred}" platform: accounts use "${mapping.platform}" with force_chat_completions`,
    );
  if (!caps.chat_completions)
    warnings.push("host has no /v1/chat/completions: access cannot be proven on it");
  return warnings;
}
