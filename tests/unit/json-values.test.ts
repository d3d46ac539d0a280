import { describe, expect, it } from "vitest";
import { exceedsJsonValues } from "../../src/host/sub2api/json.js";

describe("exceedsJsonValues: a list page counted before it is parsed", () => {
  it("counts separators and opened objects and arrays, not what strings hold", () => {
    // Outside strings: the page's `{`, `[`, two `{` and two `,` — 6; the escaped quote and
    // backslash inside the strings do not end them early.
    const page = '{"items":[{"name":"a,b,{c}[d]","notes":"say \\"x, y\\" \\\\,"},{"id":2}]}';
    expect(JSON.parse(page)).toBeTruthy();
    expect(exceedsJsonValues(page, 6)).toBe(false);
    expect(exceedsJsonValues(page, 5)).toBe(true);
  });

  it("stops at the limit on a page packed with empty objects", () => {
    expect(exceedsJsonValues(`[${"{},".repeat(10_000)}{}]`, 5_000)).toBe(true);
    expect(exceedsJsonValues(`[${"{},".repeat(10)}{}]`, 5_000)).toBe(false);
  });
});
