import type { HostClient } from "./client.js";
import { isHostError } from "./errors.js";
import { deleteById } from "./groups.js";
import type { CreatePlanInput, HostPlan } from "./types.js";
import { asArray, Wire } from "./wire.js";

const BASE = "/api/v1/admin/payment/plans";

/** Plans are raw ent entities: omitempty, so zero values may be missing (contract §6.2). */
function toPlan(operation: string, value: unknown): HostPlan {
  const w = Wire.of(operation, value);
  return {
    id: w.num("id"),
    groupId: w.optNum("group_id", 0),
    name: w.str("name", ""),
    description: w.str("description", ""),
    price: w.optNum("price", 0),
    currency: w.optStr("currency"),
    validityDays: w.optNum("validity_days", 0),
    validityUnit: w.str("validity_unit", "day"),
    forSale: w.bool("for_sale", false),
  };
}

export async function listPlans(client: HostClient): Promise<HostPlan[]> {
  const data = await client.envelope({ operation: "plans.list", method: "GET", path: BASE, retry: "read" });
  return asArray("plans.list", data ?? []).map((p) => toPlan("plans.list", p));
}

export async function createPlan(client: HostClient, input: CreatePlanInput): Promise<HostPlan> {
  const data = await client.envelope({
    operation: "plans.create",
    method: "POST",
    path: BASE,
    retry: "write",
    body: {
      group_id: input.groupId,
      name: input.name,
      description: input.description,
      price: input.price,
      ...(input.currency ? { currency: input.currency } : {}),
      validity_days: input.validityDays,
      validity_unit: "day",
      for_sale: true,
    },
  });
  return toPlan("plans.create", data);
}

/**
 * Payment builds answer a delete of an unknown plan with 500, not 404 (ent's not-found is not
 * mapped): a 500 is confirmed by listing, so a rollback run again finds the plan already gone.
 */
export async function deletePlan(client: HostClient, id: number): Promise<"deleted" | "already_gone"> {
  try {
    return await deleteById(client, "plans.delete", `${BASE}/${id}`);
  } catch (err) {
    if (!isHostError(err) || err.status !== 500) throw err;
    if ((await listPlans(client)).some((p) => p.id === id)) throw err;
    return "already_gone";
  }
}
