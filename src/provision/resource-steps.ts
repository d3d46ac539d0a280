import { logicalKey } from "../domain/naming.js";
import type { PlannedResource, SharedResourceType } from "../domain/plan.js";
import type { ResourceType } from "../domain/resources.js";
import { type ResourceRow, recordIntent, updateResource } from "../store/resources.js";
import { adopt, intent, type SagaContext, step } from "./saga.js";

/** Records the intent, makes the host call, records the host id: the saga's unit of work. */
export async function createRecorded(
  s: SagaContext,
  type: ResourceType,
  lk: string,
  name: string,
  call: (row: ResourceRow) => Promise<{ id: number; attrs?: Record<string, unknown> }>,
): Promise<number> {
  const row = recordIntent(s.ctx, intent(s, type, lk, name));
  const made = await step(type, () => call(row));
  updateResource(s.ctx, row.id, {
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
function reuse(s: SagaContext, p: PlannedResource): number {
  const id = p.host_resource_id as number;
  adopt(s, p.type, logicalKey(s.gen, p.type), p.name, id);
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
  if (p?.action === "reuse") return reuse(s, p);
  const { def, mapping, adapter } = s.internals;
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
    return { id: g.id, attrs: { platform: g.platform, subscription_type: g.subscriptionType } };
  });
  s.created.group_id = id;
  return id;
}

/** Step 2: the channel that carries the pack's pricing, where the host has channels. */
export async function channelStep(s: SagaContext, groupId: number): Promise<void> {
  const p = planned(s, "channel");
  if (p?.action === "reuse") reuse(s, p);
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
  if (p?.action === "reuse") reuse(s, p);
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
