import { describe, expect, it } from "vitest";
import { chunk, mapLimit } from "../../src/util/concurrency.js";

describe("mapLimit (p-limit underneath)", () => {
  it("keeps at most `limit` calls in flight and the results in input order", async () => {
    let inFlight = 0;
    let peak = 0;
    const pending: (() => void)[] = [];
    const run = mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => pending.push(resolve));
      inFlight -= 1;
      return n * 10;
    });
    // Release the calls one by one, newest first, so that they finish out of order.
    for (let released = 0; released < 7; ) {
      await new Promise((r) => setImmediate(r));
      const next = pending.pop();
      if (next) {
        next();
        released += 1;
      }
    }
    expect(await run).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it("rejects with the first failure", async () => {
    await expect(
      mapLimit([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error("two");
        return n;
      }),
    ).rejects.toThrow("two");
  });

  it("chunks", () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
