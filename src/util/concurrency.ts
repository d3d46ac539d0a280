import pLimit from "p-limit";

/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the input order. The pool is
 * p-limit's (a well-kept queue, FIFO), this is only its map; the first rejection rejects the
 * whole, as Promise.all does, while the calls already started finish.
 */
export function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const run = pLimit(Math.max(1, limit));
  return Promise.all(items.map((item, i) => run(() => fn(item, i))));
}

/** Consecutive slices of at most `size` items (batch create and delete calls take chunks). */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
