import type { HostClient } from "./client.js";
import { deleteById } from "./groups.js";
import { listAll } from "./paginate.js";
import type { CreateChannelInput, HostChannel, ListQuery, PricingEntry } from "./types.js";
import { stringMap, Wire } from "./wire.js";

const BASE = "/api/v1/admin/channels";

function toChannel(operation: string, value: unknown): HostChannel {
  const w = Wire.of(operation, value);
  const mapping: Record<string, Record<string, string>> = {};
  for (const [platform, m] of Object.entries(w.record("model_mapping"))) {
    if (typeof m === "object" && m !== null) mapping[platform] = stringMap(m as Record<string, unknown>);
  }
  return {
    id: w.num("id"),
    name: w.str("name"),
    description: w.str("description", ""),
    status: w.str("status", "active"),
    groupIds: w.numArray("group_ids"),
    modelPricing: w.array("model_pricing").map((p, i) => {
      const pw = Wire.of(operation, p, `data.model_pricing[${i}]`);
      return {
        platform: pw.str("platform", "anthropic"),
        models: pw.array("models").filter((m): m is string => typeof m === "string"),
        inputPrice: pw.optNum("input_price", 0),
        outputPrice: pw.optNum("output_price", 0),
      };
    }),
    modelMapping: mapping,
  };
}

function pricingBody(p: PricingEntry) {
  return {
    platform: p.platform,
    models: p.models,
    billing_mode: "token",
    input_price: p.inputPrice,
    output_price: p.outputPrice,
  };
}

export function listChannels(
  client: HostClient,
  pageSize: number,
  query: ListQuery = {},
): Promise<HostChannel[]> {
  return listAll(
    client,
    { operation: "channels.list", path: BASE, query: { search: query.search } },
    pageSize,
    (item) => toChannel("channels.list", item),
  );
}

export async function createChannel(client: HostClient, input: CreateChannelInput): Promise<HostChannel> {
  const data = await client.envelope({
    operation: "channels.create",
    method: "POST",
    path: BASE,
    retry: "write",
    body: {
      name: input.name,
      description: input.description,
      group_ids: input.groupIds,
      model_pricing: input.modelPricing.map(pricingBody),
      ...(input.modelMapping ? { model_mapping: input.modelMapping } : {}),
    },
  });
  return toChannel("channels.create", data);
}

/**
 * `PUT /admin/channels/:id {model_mapping, model_pricing?}` (routes/admin.go:747,
 * channel_handler.go:44-57,494-560 @67380eafd): every field of `updateChannelRequest` is optional and
 * an omitted one is kept; a present `model_mapping` (platform → {from → to}) replaces the whole
 * mapping, `{}` included (channel_service.go:907-909), and a present `model_pricing` the whole
 * pricing (contract §5.4), so the caller sends the full mapping and pricing it means. The same body
 * twice gives the same channel, so a retry is safe.
 */
export async function updateChannelModelMapping(
  client: HostClient,
  id: number,
  modelMapping: Record<string, Record<string, string>>,
  modelPricing?: PricingEntry[],
): Promise<HostChannel> {
  const data = await client.envelope({
    operation: "channels.update",
    method: "PUT",
    path: `${BASE}/${id}`,
    body: {
      model_mapping: modelMapping,
      ...(modelPricing ? { model_pricing: modelPricing.map(pricingBody) } : {}),
    },
    retry: "read",
  });
  return toChannel("channels.update", data);
}

export function deleteChannel(client: HostClient, id: number) {
  return deleteById(client, "channels.delete", `${BASE}/${id}`);
}
