import { describe, expect, it } from "vitest";
import {
  compareVersions,
  parseHostVersion,
  parseRange,
  parseVersion,
  satisfies,
} from "../../src/domain/pack/version-range.js";

const v = (s: string) => parseVersion(s) as number[];
const r = (s: string) => {
  const parsed = parseRange(s);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
};

describe("dotted numeric versions", () => {
  it("compare part by part, numerically, with 3 or 4 parts", () => {
    expect(compareVersions(v("0.1.105.36"), v("0.1.105"))).toBe(1);
    expect(compareVersions(v("0.1.105"), v("0.1.105.0"))).toBe(0);
    expect(compareVersions(v("0.1.9"), v("0.1.10"))).toBe(-1);
    expect(compareVersions(v("0.1.126"), v("0.1.105.36"))).toBe(1);
    expect(compareVersions(v("1.0"), v("0.99.99.99"))).toBe(1);
  });

  it("read host versions with a v prefix or a suffix", () => {
    expect(parseHostVersion("v0.1.126")).toEqual([0, 1, 126]);
    expect(parseHostVersion("0.1.105.36-cn")).toEqual([0, 1, 105, 36]);
    expect(parseHostVersion("dev")).toBeUndefined();
    expect(parseVersion("0.1.2.3.4")).toBeUndefined();
  });
});

describe("ranges", () => {
  it.each([
    [">=0.1.100 <0.3", "0.1.105.36", true],
    [">=0.1.100 <0.3", "0.1.99.99", false],
    [">=0.1.100 <0.3", "0.3", false],
    [">=0.1.100 <0.3", "0.2.999.1", true],
    [">0.1.105 <=0.1.105.36", "0.1.105.36", true],
    [">0.1.105", "0.1.105.0", false],
    ["0.1.1 || >=0.1.120", "0.1.1", true],
    ["0.1.1 || >=0.1.120", "0.1.110", false],
    ["=0.1.126", "0.1.126.0", true],
  ])("%s admits %s: %s", (range, version, expected) => {
    expect(satisfies(v(version), r(range))).toBe(expected);
  });

  it.each([">=banana", "", ">= 0.1", "0.1 ||", "~1.2"])("rejects %j with a reason", (text) => {
    expect(typeof parseRange(text)).toBe("string");
  });
});
