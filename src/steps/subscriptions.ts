import type { AppContext } from "../app/context.js";
import { idempotencyKey, ownershipTag } from "../domain/naming.js";
import { type HostAdapter, isHostError } from "../host/sub2api/index.js";
import { recordIntent, updateResource } from "../store/resources.js";

export interface SubscriptionGrant {
  hostId: string;
  providerId: string;
  /** The batch that owns the group: rolling it back revokes the subscription. */
  batchId: string;
  groupId: number;
  userId: number;
  validityDays: number;
  logicalKey: string;
  name: string;
  /** The probe user's own subscription (not a customer's). */
  probe?: boolean;
}

export type GrantOutcome =
  | { action: "created"; subscriptionId: number; reason: string }
  | { action: "conflict" | "failed"; subscriptionId: null; reason: string };

/**
 * The one way relay gives a user a subscription: record the intent, assign it on the host,
 * record the result. A live record (heal after a hand deletion) is re-assigned in place. A refusal
 * about this user (unknown user, a conflicting subscription) is this grant's outcome; a failure of
 * the host itself (network, 5xx, 429) is thrown, since the host may or may not have acted.
 */
export async function assignAndRecord(
  ctx: AppContext,
  adapter: HostAdapter,
  g: SubscriptionGrant,
): Promise<GrantOutcome> {
  const row = recordIntent(ctx, {
    hostId: g.hostId,
    providerId: g.providerId,
    batchId: g.batchId,
    type: "subscription",
    logicalKey: g.logicalKey,
    name: g.name,
    idempotencyKey: idempotencyKey(g.hostId, "subscription.assign", `${g.groupId}:${g.userId}:${g.batchId}`),
    attrs: {
      user_id: g.userId,
      group_id: g.groupId,
      validity_days: g.validityDays,
      ...(g.probe ? { probe: true } : {}),
    },
  });
  // A heal re-assigns a live record; a refusal then leaves the record for reconcile to report.
  const healing = row.state === "created" || row.state === "reused";
  const refused = () => {
    if (!healing) updateResource(ctx, row.id, { state: "failed" });
  };
  let outcome: Awaited<ReturnType<HostAdapter["assignSubscription"]>>;
  try {
    outcome = await adapter.assignSubscription({
      userId: g.userId,
      groupId: g.groupId,
      validityDays: g.validityDays,
      notes: ownershipTag(ctx.installId, g.providerId, row.batchId ?? g.batchId),
    });
  } catch (err) {
    if (!isHostError(err) || err.kind !== "http" || (err.status ?? 500) >= 500 || err.status === 429)
      throw err;
    refused();
    return { action: "failed", subscriptionId: null, reason: `${err.machineCode}: ${err.message}` };
  }
  if (outcome.kind === "assigned") {
    updateResource(ctx, row.id, { hostResourceId: outcome.subscription.id, state: "created" });
    return { action: "created", subscriptionId: outcome.subscription.id, reason: "assigned" };
  }
  refused();
  return { action: "conflict", subscriptionId: null, reason: `${outcome.code}: ${outcome.reason}` };
}
