import type { HostClient, RequestSpec } from "./client.js";
import { HostError } from "./errors.js";
import { Wire } from "./wire.js";

/** Hard stops against a host that keeps announcing more: pages of one listing, and items in all. */
export const MAX_PAGES = 2_000;
export const MAX_ITEMS = 100_000;
/** Pages beyond what the reported total justifies (items made while relay lists). */
export const PAGE_MARGIN = 2;
/** JSON values one item of a list page may hold (an account with its extra, mapping and groups is ~100). */
const VALUES_PER_ITEM = 400;

/**
 * Lists every item of a paginated admin route: `{items, total, page, page_size, pages}`.
 * Iterates until `page >= pages`. sub2api silently replaces an over-large page_size with 20, so the
 * loop trusts the host's `pages`, not the size it asked for — but never more pages than the
 * host's own `total` justifies at the page size it answers with (plus a small margin), and never a
 * page holding more JSON values than `pageSize` items can (refused before it is parsed). A host
 * announcing 10^7 pages for a handful of items gets a few requests and a clear error.
 */
export async function listAll<T>(
  client: HostClient,
  spec: Omit<RequestSpec, "method" | "retry">,
  pageSize: number,
  mapItem: (item: unknown, index: number) => T,
): Promise<T[]> {
  const out: T[] = [];
  let justified = MAX_PAGES;
  let size: number | undefined; // the page size the host answers with, from its first page
  for (let page = 1; page <= justified; page++) {
    const data = await client.envelope({
      ...spec,
      method: "GET",
      retry: "read",
      query: { ...spec.query, page, page_size: pageSize },
      maxValues: pageSize * VALUES_PER_ITEM + 1_000,
    });
    const w = Wire.of(spec.operation, data);
    const items = w.array("items");
    const pages = Math.max(1, w.optNum("pages", 1));
    if (items.length > pageSize)
      refuse(spec, `a page of ${items.length} items, more than the ${pageSize} asked`);
    for (const item of items) out.push(mapItem(item, out.length));
    if (out.length > MAX_ITEMS) refuse(spec, `more than ${MAX_ITEMS} items`);
    if (page >= pages || items.length === 0) return out;
    size ??= Math.max(1, Math.min(w.optNum("page_size", items.length), pageSize, items.length));
    justified = pagesJustified(w, size);
  }
  return refuse(spec, `it announced more pages after ${justified}, more than its reported total justifies`);
}

/**
 * Pages the host's latest `total` justifies (it may grow while relay lists) at the page size of
 * its first page, plus the margin: a host cannot stretch the listing with short pages.
 */
function pagesJustified(w: Wire, size: number): number {
  const total = w.optNum("total", Number.NaN);
  if (!Number.isFinite(total) || total < 0) return MAX_PAGES;
  return Math.min(MAX_PAGES, Math.ceil(total / size) + PAGE_MARGIN);
}

function refuse(spec: Omit<RequestSpec, "method" | "retry">, why: string): never {
  throw new HostError({
    kind: "parse",
    operation: spec.operation,
    code: "LIST_TOO_LONG",
    message: `${spec.operation}: the host's list does not add up (${why}); relay stopped listing`,
  });
}
