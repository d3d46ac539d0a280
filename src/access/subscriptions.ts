import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError, invalidInput } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { logicalKey } from "../domain/naming.js";
import type { SubscriptionTarget } from "../domain/plan.js";
import type { HostAdapter, HostSubscription } from "../host/sub2api/index.js";
import { callHost } from "../steps/host-call.js";
import { assignAndRecord } from "../steps/subscriptions.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { getInstall } from "../store/installs.js";
import { getProviderDefinition } from "../store/packs.js";
import { findResource } from "../store/resources.js";

export interface AssignmentOutcome {
  user_id: number;
  validity_days: number;
  action: "created" | "reused" | "conflict" | "failed";
  reason: string;
  subscription_id: number | null;
}

export interface AccessPreview {
  host_id: string;
  provider_id: string;
  group: { id: number; name: string; subscription_type: string } | null;
  assign: { user_id: number; validity_days: number; action: "create" | "reuse"; reason: string }[];
  already_subscribed: number[];
  probe: { identity: string; chat_completions: boolean; steps: string[] };
}

async function context(ctx: AppContext, hostRef: string, providerId: string) {
  const host = await findHost(ctx, hostRef);
  const { definition: def } = await getProviderDefinition(ctx, providerId);
  const gen = (await getInstall(ctx, host.id, providerId))?.generation ?? 1;
  const group = await findResource(ctx, host.id, providerId, "group", logicalKey(gen, "group"));
  const live =
    group && ["created", "reused"].includes(group.state) && group.hostResourceId !== null ? group : undefined;
  return { host, def, gen, group: live };
}

function validate(users: SubscriptionTarget[]) {
  if (users.length === 0) throw invalidInput("NO_USERS", "name at least one user (USER_ID or USER_ID:DAYS)");
  for (const u of users) {
    if (!Number.isInteger(u.userId) || u.userId <= 0)
      throw invalidInput("INVALID_SUBSCRIBER", `user id ${u.userId} is not a positive integer`);
    if (u.days !== undefined && (!Number.isInteger(u.days) || u.days < 1 || u.days > 36500))
      throw invalidInput("INVALID_SUBSCRIBER", `validity ${u.days} is outside 1..36500 days`);
  }
}

/** Who would be assigned, who already has access, and what the probe will do. Read-only. */
export async function previewAccess(
  ctx: AppContext,
  input: { hostRef: string; providerId: string; users: SubscriptionTarget[] },
): Promise<AccessPreview> {
  const { host, def, group } = await context(ctx, input.hostRef, input.providerId);
  const caps = await latestCapabilities(ctx, host.id);
  let subs: HostSubscription[] = [];
  if (group) {
    await callHost(host, async () => {
      const adapter = await hostAdapterFor(ctx, host);
      subs = await adapter.listSubscriptions({ groupId: group.hostResourceId as number });
      // The same refusal the assignment would give, found without writing.
      await refuseUnknownUsers(adapter, host.name, input.users, subs);
    });
  }
  const active = new Set(subs.filter((s) => s.status === "active").map((s) => s.userId));
  return {
    host_id: host.id,
    provider_id: def.provider_id,
    group: group
      ? {
          id: group.hostResourceId as number,
          name: group.name,
          subscription_type: def.group_defaults.subscription_type,
        }
      : null,
    assign: input.users.map((u) => ({
      user_id: u.userId,
      validity_days: u.days ?? def.plan?.validity_days ?? 30,
      action: active.has(u.userId) ? "reuse" : "create",
      reason: active.has(u.userId) ? "already holds an active subscription" : "will be assigned",
    })),
    already_subscribed: [...active].sort((a, b) => a - b),
    probe: {
      identity: host.probeIdentity,
      chat_completions: caps.chat_completions,
      steps: !caps.chat_completions
        ? ["none: the host has no /v1/chat/completions, access cannot be proven"]
        : host.probeIdentity === "none"
          ? ["none: the host has no probe identity"]
          : [
              host.probeIdentity === "auto"
                ? "ensure relay's probe user (created once, password kept encrypted)"
                : "use the operator's probe user",
              def.group_defaults.subscription_type === "subscription"
                ? "assign the probe user a subscription to the group (once)"
                : "top up the probe user's balance if empty",
              "log in through the user API; bind the probe user's own key to the group",
              `POST /v1/chat/completions with ${def.smoke_test_model}`,
            ],
    },
  };
}

/**
 * Assigns subscriptions to users for the provider's group, idempotently on old and new hosts: an
 * existing active subscription is success; a conflicting one is reported, never overwritten. Each
 * assignment is recorded against the batch that owns the group, so rolling it back revokes them.
 */
export async function assignSubscriptions(
  ctx: AppContext,
  input: { hostRef: string; providerId: string; users: SubscriptionTarget[]; batchId?: string },
): Promise<AssignmentOutcome[]> {
  validate(input.users);
  const { host, def, gen, group } = await context(ctx, input.hostRef, input.providerId);
  if (!group)
    throw new AppError(
      "not_found",
      "PROVIDER_NOT_IMPORTED",
      `${def.provider_id} has no group on ${host.name}`,
      { hint: hint`Import keys first with ${act.providerImport()}.` },
    );
  if (def.group_defaults.subscription_type !== "subscription") {
    throw invalidInput(
      "NOT_A_SUBSCRIPTION_GROUP",
      `${def.provider_id}'s group is a ${def.group_defaults.subscription_type} group; subscriptions do not apply`,
    );
  }
  // The batch that made (or adopted) the group owns the grant: a later batch that only reused the
  // group may be rolled back while the group and its users stay (#29 R5).
  const batchId = input.batchId ?? group.batchId;
  const groupId = group.hostResourceId as number;
  const adapter = await hostAdapterFor(ctx, host);
  const out: AssignmentOutcome[] = [];
  await callHost(host, async () => {
    const existing = await adapter.listSubscriptions({ groupId });
    await refuseUnknownUsers(adapter, host.name, input.users, existing);
    for (const u of input.users) {
      const days = u.days ?? def.plan?.validity_days ?? 30;
      const active = existing.find((s) => s.userId === u.userId && s.status === "active");
      if (active) {
        out.push({
          user_id: u.userId,
          validity_days: days,
          action: "reused",
          reason: "already holds an active subscription",
          subscription_id: active.id,
        });
        continue;
      }
      const grant = await assignAndRecord(ctx, adapter, {
        hostId: host.id,
        providerId: def.provider_id,
        batchId: batchId as string,
        groupId,
        userId: u.userId,
        validityDays: days,
        logicalKey: logicalKey(gen, "subscription", String(u.userId)),
        name: `user-${u.userId}`,
      });
      out.push({
        user_id: u.userId,
        validity_days: days,
        action: grant.action,
        reason: grant.reason,
        subscription_id: grant.subscriptionId,
      });
    }
  });
  return out;
}

/**
 * Every user to be subscribed must exist on the host, checked before any write: sub2api answers a
 * subscription for a user it does not have with an error that names no user (a 500 on some
 * builds), so the refusal says which ids and what to do.
 */
async function refuseUnknownUsers(
  adapter: Pick<HostAdapter, "getUser">,
  hostName: string,
  users: SubscriptionTarget[],
  existing: HostSubscription[],
): Promise<void> {
  const unknown: number[] = [];
  for (const u of users) {
    if (existing.some((s) => s.userId === u.userId)) continue;
    if ((await adapter.getUser(u.userId)) === undefined) unknown.push(u.userId);
  }
  if (unknown.length === 0) return;
  const which =
    unknown.length === 1 ? `no user with id ${unknown[0]}` : `no users with ids ${unknown.join(", ")}`;
  throw new AppError("not_found", "USER_NOT_FOUND", `${which} on host ${hostName}; nothing was assigned`, {
    details: { user_ids: unknown },
    hint: "Create the user in sub2api first (its admin console, or the user registering), then run this again with its id.",
  });
}
