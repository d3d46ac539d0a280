import type { HostAccount, HostChannel, HostGroup, HostPlan } from "../host/sub2api/types.js";

/**
 * The managed fields beyond identity and binding (#25): every other attribute relay sets when it
 * creates a resource, with the value it set. Kept apart from drift.ts's `compare` (which judges
 * existence, platform, status and bindings) so each can change without the other. A field relay
 * did not send (a limit the pack leaves unset, a reused resource's description) is not expected.
 */
export type ManagedFields =
  | {
      type: "group";
      rate_multiplier: number;
      is_exclusive: boolean;
      daily_limit_usd?: number | null;
      weekly_limit_usd?: number | null;
      monthly_limit_usd?: number | null;
      description?: string;
    }
  | { type: "account"; concurrency: number; priority: number }
  | {
      type: "channel";
      model_pricing: { platform: string; models: string[]; input_price: number; output_price: number }[];
      model_mapping: Record<string, Record<string, string>>;
      description?: string;
    }
  | { type: "plan"; price: number; currency?: string; validity_days: number; description?: string };

/** Every field reconcile compares, by resource type: what an ignore rule may name. */
export const WATCHED_FIELDS: Record<string, readonly string[]> = {
  group: [
    "platform",
    "status",
    "subscription_type",
    "rate_multiplier",
    "is_exclusive",
    "daily_limit_usd",
    "weekly_limit_usd",
    "monthly_limit_usd",
    "description",
  ],
  account: ["status", "schedulable", "group_ids", "base_url", "model_mapping", "concurrency", "priority"],
  channel: ["group_ids", "model_pricing", "model_mapping", "description"],
  plan: ["group_id", "price", "currency", "validity_days", "description"],
  subscription: ["status", "user_id"],
};

type Difference = [field: string, expected: unknown, actual: unknown];

export interface HostObjects {
  groups: Map<number, HostGroup>;
  accounts: Map<number, HostAccount>;
  channels: Map<number, HostChannel> | undefined;
  plans: Map<number, HostPlan> | undefined;
}

/** Prices are converted per token (x / 1e6): compare them relatively, not bit for bit. */
const near = (a: number, b: number) =>
  a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

const sameJson = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}

const samePricing = (
  expected: Extract<ManagedFields, { type: "channel" }>["model_pricing"],
  actual: HostChannel["modelPricing"],
) =>
  expected.length === actual.length &&
  expected.every((e) =>
    actual.some(
      (a) =>
        a.platform === e.platform &&
        a.models.length === e.models.length &&
        e.models.every((m) => a.models.includes(m)) &&
        near(a.inputPrice, e.input_price) &&
        near(a.outputPrice, e.output_price),
    ),
  );

const pricingOf = (c: HostChannel) =>
  c.modelPricing.map((p) => ({
    platform: p.platform,
    models: p.models,
    input_price: p.inputPrice,
    output_price: p.outputPrice,
  }));

/**
 * The managed fields of one resource that differ on the host; none when it is not on the host
 * (or its list was not read): drift.ts's `compare` reports that.
 */
export function managedFieldDifferences(m: ManagedFields, id: number, on: HostObjects): Difference[] {
  const out: Difference[] = [];
  const check = (field: string, expected: unknown, actual: unknown, same = expected === actual) => {
    if (expected !== undefined && !same) out.push([field, expected, actual]);
  };
  switch (m.type) {
    case "group": {
      const g = on.groups.get(id);
      if (!g) return out;
      check(
        "rate_multiplier",
        m.rate_multiplier,
        g.rateMultiplier,
        near(m.rate_multiplier, g.rateMultiplier),
      );
      check("is_exclusive", m.is_exclusive, g.isExclusive);
      check("daily_limit_usd", m.daily_limit_usd, g.dailyLimitUsd);
      check("weekly_limit_usd", m.weekly_limit_usd, g.weeklyLimitUsd);
      check("monthly_limit_usd", m.monthly_limit_usd, g.monthlyLimitUsd);
      check("description", m.description, g.description);
      return out;
    }
    case "account": {
      const a = on.accounts.get(id);
      if (!a) return out;
      check("concurrency", m.concurrency, a.concurrency);
      check("priority", m.priority, a.priority);
      return out;
    }
    case "channel": {
      const c = on.channels?.get(id);
      if (!c) return out;
      check("model_pricing", m.model_pricing, pricingOf(c), samePricing(m.model_pricing, c.modelPricing));
      check(
        "model_mapping",
        m.model_mapping,
        c.modelMapping,
        sameJson(m.model_mapping, c.modelMapping ?? {}),
      );
      check("description", m.description, c.description);
      return out;
    }
    case "plan": {
      const p = on.plans?.get(id);
      if (!p) return out;
      check("price", m.price, p.price, near(m.price, p.price));
      // A host that does not echo the currency says nothing about it.
      if (p.currency !== undefined) check("currency", m.currency, p.currency);
      check("validity_days", m.validity_days, p.validityDays);
      check("description", m.description, p.description);
      return out;
    }
  }
}
