import { describe, expect, it } from "vitest";
import { isAppError } from "../../src/domain/errors.js";
import { parseRetest, pickRetests } from "../../src/domain/retest.js";

const ids = Array.from({ length: 20 }, (_, i) => i + 1);
const pick = (policy: string, failed: number[], random?: () => number) =>
  pickRetests(ids, (x) => x, new Set(failed), parseRetest(policy), random);

describe("re-test policy", () => {
  it("all, none and failed", () => {
    expect(pick("all", [3])).toEqual(ids);
    expect(pick("none", [3])).toEqual([]);
    expect(pick("failed", [3, 17, 99])).toEqual([3, 17]);
  });

  it("sample:N takes N at random plus every account that failed before, in their order", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const picked = pick("sample:5", [4, 18], random);
    expect(picked).toHaveLength(7);
    expect(picked).toEqual(expect.arrayContaining([4, 18]));
    expect([...picked].sort((a, b) => a - b)).toEqual(picked);
    expect(new Set(picked).size).toBe(7);
    // Different draws pick different accounts: the sample is not always the first five.
    const draws = new Set(Array.from({ length: 10 }, () => pick("sample:5", [], random).join(",")));
    expect(draws.size).toBeGreaterThan(1);
    expect(pick("sample:50", [])).toEqual(ids);
  });

  it("refuses anything else with a hint", () => {
    for (const bad of ["", "some", "sample:", "sample:0", "sample:-1", "sample:10000", "ALL", "sample:5 "]) {
      let err: unknown;
      try {
        parseRetest(bad);
      } catch (e) {
        err = e;
      }
      expect(isAppError(err) && err.code === "RETEST_INVALID").toBe(true);
    }
  });
});
