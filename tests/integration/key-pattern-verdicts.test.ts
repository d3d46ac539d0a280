import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkKeyPattern, checkKeyPatterns, MAX_KEY_PATTERN } from "../../src/domain/pack/pattern.js";
import { projectRoot } from "../../src/util/paths.js";
import { startBurners } from "../helpers/burners.js";

const SHIPPED_PATTERNS = readdirSync(join(projectRoot(), "packs", "openai-cn-pack", "providers")).map(
  (f) =>
    (
      JSON.parse(readFileSync(join(projectRoot(), "packs", "openai-cn-pack", "providers", f), "utf8")) as {
        key_pattern: string;
      }
    ).key_pattern,
);

/** Not a plain sequence (alternation), but linear: recheck proves it in about 740 checkpoints. */
const NEEDS_ANALYSIS = "^(sk-|ak-)[a-z0-9]+$";

describe("key pattern verdicts", () => {
  it("proves the shipped pack's patterns by their shape: nothing is analysed", async () => {
    let analysed = 0;
    const verdicts = await checkKeyPatterns(SHIPPED_PATTERNS, { onAnalysis: (n) => (analysed += n) });
    // Ten providers (five families and their regions); every one has a key pattern.
    expect(SHIPPED_PATTERNS).toHaveLength(10);
    for (const p of SHIPPED_PATTERNS) expect(verdicts.get(p), p).toEqual({ safe: true, by: "shape" });
    expect(analysed).toBe(0);
  });

  it.each([
    "^(a+)+$",
    "^(\\w+\\s?)*$",
    "^(a|a)*$",
    "^([a-z]*)*$",
    "(x+x+)+y",
    "^(sk-|sk-)*[a-z]+$",
    "^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*$",
    "^(.*a){12}$",
  ])("refuses %s as ReDoS, found well within a tenth of the budget", async (pattern) => {
    const verdict = (await checkKeyPatterns([pattern], { budget: 5_000 })).get(pattern);
    expect(verdict).toMatchObject({ safe: false, reason: expect.stringMatching(/backtracking \(ReDoS\)/) });
  });

  it("refuses a pattern recheck cannot analyse, one too long and one that is not a RegExp", async () => {
    expect(await checkKeyPattern("^(?=sk)[a-z-]+\\d$")).toMatchObject({
      safe: false,
      reason: expect.stringMatching(/could not be shown to match in linear time/),
    });
    expect(await checkKeyPattern(`^${"a".repeat(MAX_KEY_PATTERN)}$`)).toMatchObject({
      safe: false,
      reason: expect.stringMatching(/longer than 256/),
    });
    expect(await checkKeyPattern("^(a")).toMatchObject({
      safe: false,
      reason: expect.stringMatching(/not a valid regular expression/),
    });
  });

  it("analyses at most maxAnalysed patterns of a pack, in order, and refuses the rest unread", async () => {
    const patterns = ["^(sk-|ak-)[a-z]+$", "^(sk-|ak-)[0-9]+$", "^(sk-|ak-)[A-Z]+$", "^sk-[a-z]+$"];
    const counts: number[] = [];
    const verdicts = await checkKeyPatterns(patterns, { maxAnalysed: 2, onAnalysis: (n) => counts.push(n) });
    expect(counts).toEqual([2]);
    expect(verdicts.get(patterns[0]!)).toEqual({ safe: true, by: "analysis" });
    expect(verdicts.get(patterns[1]!)).toEqual({ safe: true, by: "analysis" });
    expect(verdicts.get(patterns[2]!)).toMatchObject({
      safe: false,
      reason: expect.stringMatching(/not analysed: at most 2 key patterns per pack/),
    });
    expect(verdicts.get(patterns[3]!)).toEqual({ safe: true, by: "shape" });
  });
});

describe("the analysis budget is work, not time", () => {
  let burners: { stop: () => Promise<void> };
  beforeAll(() => {
    burners = startBurners(2);
  });
  afterAll(() => burners.stop());

  it("gives the same verdict at the edge of the budget, again and again, on a saturated machine", async () => {
    for (let round = 0; round < 3; round++) {
      // A budget of its own per call: verdicts are cached per (budget, pattern).
      const under = (await checkKeyPatterns([NEEDS_ANALYSIS], { budget: 600 + round })).get(NEEDS_ANALYSIS);
      const over = (await checkKeyPatterns([NEEDS_ANALYSIS], { budget: 900 + round })).get(NEEDS_ANALYSIS);
      expect(under).toMatchObject({
        safe: false,
        reason: expect.stringMatching(/too complex to prove linear/),
      });
      expect(over).toEqual({ safe: true, by: "analysis" });
    }
  }, 120_000);
});
