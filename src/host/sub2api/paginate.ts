import type { HostClient, RequestSpec } from "./client.js";
import { HostError } from "./errors.js";
import { Wire } from "./wire.js";

/** Hard stop against a host that keeps announcing more pages. */
const MAX_PAGES = 10_000;

/**
 * Lists every item of a paginated admin route: `{items, total, page, page_size, pages}`.
 * Iterates until `page >= pages`. sub2api silently replaces an over-large page_size with 20, so the
 * loop trusts the host's `pages`, not the size it asked for.
 */
export async function listAll<T>(
  client: HostClient,
  spec: Omit<RequestSpec, "method" | "retry">,
  pageSize: number,
  mapItem: (item: unknown, index: number) => T,
): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const data = await client.envelope({
      ...spec,
      method: "GET",
      retry: "read",
      query: { ...spec.query, page, page_size: pageSize },
    });
    const w = Wire.of(spec.operation, data);
    const items = w.array("items");
    const pages = Math.max(1, w.optNum("pages", 1));
    for (const item of items) out.push(mapItem(item, out.length));
    if (page >= pages || items.length === 0) return out;
  }
  throw new HostError({
    kind: "parse",
    operation: spec.operation,
    message: `${spec.operation}: host kept announcing more pages after ${MAX_PAGES}`,
  });
}
