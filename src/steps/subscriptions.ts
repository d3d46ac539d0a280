import type { AppContext } from "../app/context.js";
import { idempotencyKey, ownershipTag } from "../domain/naming.js";
import { type BulkAssignResult, type HostAdapter, isHostError } from "../host/sub2api/index.js";
import { type ResourceRow, recordIntent, updateResource } from "../store/resources.js";

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

const intentOf = (g: SubscriptionGrant) => ({
  hostId: g.hostId,
  providerId: g.providerId,
  batchId: g.batchId,
  type: "subscription" as const,
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

/**
 * Grants of one batch to one group with one validity, in one `bulk-assign` call. Each user the
 * host assigned is recorded from its answer; a user it refused for a reason of its own is that
 * user's outcome. A user the answer does not settle — the answer was lost, or the user already
 * holds a subscription (which may be this batch's, made by a call whose answer was lost) — is
 * settled by the single assign, which recognises its own subscription by its notes.
 */
export async function assignManyAndRecord(
  ctx: AppContext,
  adapter: HostAdapter,
  grants: SubscriptionGrant[],
): Promise<Map<number, GrantOutcome>> {
  const out = new Map<number, GrantOutcome>();
  const [first] = grants;
  if (!first || grants.length === 1) {
    for (const g of grants) out.set(g.userId, await assignAndRecord(ctx, adapter, g));
    return out;
  }
  const rows = new Map<number, ResourceRow>();
  for (const g of grants) rows.set(g.userId, await recordIntent(ctx, intentOf(g)));
  let answer: BulkAssignResult | undefined;
  try {
    answer = await adapter.bulkAssignSubscriptions({
      userIds: grants.map((g) => g.userId),
      groupId: first.groupId,
      validityDays: first.validityDays,
      notes: ownershipTag(ctx.installId, first.providerId, first.batchId),
    });
  } catch (err) {
    if (!isHostError(err)) throw err; // the host may have acted on some users: settled one by one below
  }
  for (const g of grants) {
    const row = rows.get(g.userId) as ResourceRow;
    const made = answer?.assigned.find((x) => x.userId === g.userId);
    if (made) {
      await updateResource(ctx, row.id, { hostResourceId: made.id, state: "created" });
      out.set(g.userId, { action: "created", subscriptionId: made.id, reason: "assigned" });
      continue;
    }
    const refusal = answer?.failed.find((f) => f.userId === g.userId);
    if (refusal && !/already exists|conflict/i.test(refusal.reason)) {
      await updateResource(ctx, row.id, { state: "failed" });
      out.set(g.userId, { action: "failed", subscriptionId: null, reason: refusal.reason });
      continue;
    }
    out.set(g.userId, await assignAndRecord(ctx, adapter, g));
  }
  return out;
}

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
  const row = await recordIntent(ctx, intentOf(g));
  // A heal re-assigns a live record; a refusal then leaves the record for reconcile to report.
  const healing = row.state === "created" || row.state === "reused";
  const refused = async () => {
    if (!healing) await updateResource(ctx, row.id, { state: "failed" });
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
    await refused();
    return { action: "failed", subscriptionId: null, reason: `${err.machineCode}: ${err.message}` };
  }
  if (outcome.kind === "assigned") {
    await updateResource(ctx, row.id, { hostResourceId: outcome.subscription.id, state: "created" });
    return { action: "created", subscriptionId: outcome.subscription.id, reason: "assigned" };
  }
  await refused();
  return { action: "conflict", subscriptionId: null, reason: `${outcome.code}: ${outcome.reason}` };
}
