import { describe, expect, it } from "vitest";
import { AdaptiveLimit } from "../../src/util/aimd.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("AdaptiveLimit (AIMD per host)", () => {
  it("never runs more than its limit at once, and serves waiters in order", async () => {
    const gate = new AdaptiveLimit(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        gate.run(
          async () => {
            running += 1;
            peak = Math.max(peak, running);
            await tick();
            running -= 1;
            order.push(i);
          },
          () => false,
        ),
      ),
    );
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("halves on an overload once per window, and grows back one step per window of successes", async () => {
    const gate = new AdaptiveLimit(16);
    const overloaded = () =>
      gate.run(
        async () => "429",
        (o) => o.value === "429",
      );
    const ok = () =>
      gate.run(
        async () => "200",
        () => false,
      );
    await overloaded();
    expect(gate.limit).toBe(8);
    // A burst of refusals from the same overload counts once.
    await Promise.all([overloaded(), overloaded(), overloaded()]);
    expect(gate.limit).toBe(8);
    for (let i = 0; i < 8; i++) await overloaded();
    expect(gate.limit).toBe(4);
    // Each success adds 1/limit: from 4, four successes reach 4.92 and the fifth passes 5.
    for (let i = 0; i < 4; i++) await ok();
    expect(gate.limit).toBe(4);
    await ok();
    expect(gate.limit).toBe(5);
    for (let i = 0; i < 200; i++) await ok();
    expect(gate.limit).toBe(16);
  });

  it("counts a thrown timeout as an overload and still frees the slot", async () => {
    const gate = new AdaptiveLimit(4);
    await expect(
      gate.run(
        async () => {
          throw new Error("timeout");
        },
        (o) => o.error !== undefined,
      ),
    ).rejects.toThrow("timeout");
    expect(gate.limit).toBe(2);
    expect(gate.inFlight).toBe(0);
  });
});
