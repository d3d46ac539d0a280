import { logicalKey } from "../domain/naming.js";
import type { PlannedResource, SharedResourceType } from "../domain/plan.js";
import type { ResourceType } from "../domain/resources.js";
import type { HostGroup } from "../host/sub2api/index.js";
import { type ResourceRow, recordIntent, updateResource } from "../store/resources.js";
import { adopt, intent, type SagaContext, StepFailed, step } from "./saga.js";

/** Records the intent, makes the host call, records the host id: the saga's unit of work. */
export async function createRecorded(
  s: SagaContext,
  type: ResourceType,
  lk: string,
  name: string,
  call: (row: ResourceRow) => Promise<{ id: number; attrs?: Record<string, unknown> }>,
): Promise<number> {
  const row = await recordIntent(s.ctx, intent(s, type, lk, name));
  const made = await step(type, () => call(row));
  await updateResource(s.ctx, row.id, {
    hostResourceId: made.id,
    state: "created",
    ...(made.attrs ? { attrs: made.attrs } : {}),
  });
  return made.id;
}

function planned(s: SagaContext, type: SharedResourceType): PlannedResource | undefined {
  return s.plan.resources.find((r) => r.type === type);
}

/** A shared resource the plan reuses: recorded (adopted) and its host id returned. */
async function reuse(s: SagaContext, p: PlannedResource): Promise<number> {
  const id = p.host_resource_id as number;
  await adopt(s, p.type, logicalKey(s.gen, p.type), p.name, id);
  return id;
}

function limits(g: {
  daily_limit_usd?: number | null;
  weekly_limit_usd?: number | null;
  monthly_limit_usd?: number | null;
}) {
  return {
    ...(g.daily_limit_usd !== undefined ? { dailyLimitUsd: g.daily_limit_usd } : {}),
    ...(g.weekly_limit_usd !== undefined ? { weeklyLimitUsd: g.weekly_limit_usd } : {}),
    ...(g.monthly_limit_usd !== undefined ? { monthlyLimitUsd: g.monthly_limit_usd } : {}),
  };
}

/** Step 1: the provider's group. */
export async function groupStep(s: SagaContext): Promise<number> {
  s.progress({ phase: "group", message: "group" });
  const p = planned(s, "group");
  if (p?.action === "reuse") return await reuse(s, p);
  const { def, mapping, adapter } = s.internals;
  let made: HostGroup | undefined;
  const id = await createRecorded(s, "group", logicalKey(s.gen, "group"), p?.name ?? "", async (row) => {
    const g = await adapter.createGroup({
      name: row.name,
      description: s.tag,
      platform: mapping.platform,
      subscriptionType: def.group_defaults.subscription_type,
      rateMultiplier: def.group_defaults.rate_multiplier,
      isExclusive: def.group_defaults.is_exclusive,
      ...limits(def.group_defaults),
    });
    made = g;
    return { id: g.id, attrs: { platform: g.platform, subscription_type: g.subscriptionType } };
  });
  s.created.group_id = id;
  // sub2api `run_mode: simple` (≥ 0.2.4) sanitises every group create to a standard group and
  // answers a reduced shape (sanitizeCreateGroupRequestForSimpleMode, group_handler.go@02c82a9a);
  // no subscription could then be assigned (GROUP_NOT_SUBSCRIPTION_TYPE). No write-free signal
  // exists on a host without groups, so the answer of the create decides; the batch rolls back.
  const wanted = def.group_defaults.subscription_type;
  if (made && wanted === "subscription" && (made.reducedShape || made.subscriptionType !== wanted)) {
    throw new StepFailed(
      "group",
      `the host made a ${made.reducedShape ? "simple-mode" : made.subscriptionType} group although a subscription group was asked: sub2api runs with run_mode: simple, which allows no subscription groups; set run_mode: standard in its config (or use a pack with standard groups)`,
    );
  }
  return id;
}

/** Step 2: the channel that carries the pack's pricing, where the host has channels. */
export async function channelStep(s: SagaContext, groupId: number): Promise<void> {
  const p = planned(s, "channel");
  if (p?.action === "reuse") await reuse(s, p);
  if (p?.action !== "create") return;
  s.progress({ phase: "channel", message: "channel" });
  const { mapping, adapter } = s.internals;
  s.created.channel_id = await createRecorded(
    s,
    "channel",
    logicalKey(s.gen, "channel"),
    p.name,
    async (row) => {
      const ch = await adapter.createChannel({
        name: row.name,
        description: s.tag,
        groupIds: [groupId],
        modelPricing: mapping.pricing,
      });
      return { id: ch.id, attrs: { group_ids: ch.groupIds } };
    },
  );
}

/** Step 3: the payment plan (a storefront item), when asked for and the host has plans. */
export async function planStep(s: SagaContext, groupId: number): Promise<void> {
  const p = planned(s, "plan");
  if (p?.action === "reuse") await reuse(s, p);
  const offer = s.internals.def.plan;
  if (p?.action !== "create" || !offer) return;
  s.progress({ phase: "plan_resource", message: "payment plan" });
  s.created.plan_id = await createRecorded(s, "plan", logicalKey(s.gen, "plan"), p.name, async (row) => {
    const made = await s.internals.adapter.createPlan({
      groupId,
      name: row.name,
      description: s.tag,
      price: offer.price,
      currency: offer.currency,
      validityDays: offer.validity_days,
    });
    return { id: made.id };
  });
}
