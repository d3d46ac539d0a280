import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  contains,
  parseSimplePattern,
  provesLinear,
  type SimplePattern,
} from "../../src/domain/pack/pattern-proof.js";

/** recheck run with no time limit: an oracle whose answer does not depend on the machine. */
const recheck = createRequire(import.meta.url)("recheck") as typeof import("recheck");

const SHIPPED = [
  "^sk-[A-Za-z0-9]{32}$",
  "^sk-[A-Za-z0-9]{32,64}$",
  "^[A-Za-z0-9._-]{32,}$",
  "^[A-Za-z0-9]{32}\\.[A-Za-z0-9]{16}$",
];

describe("the shape prover: hand cases", () => {
  it.each([
    ...SHIPPED,
    "^$",
    "^sk-[a-z]+$",
    "^a*b+c?$",
    "^(sk-)[A-Za-z0-9]{32}$",
    "^(?:sk-(?:proj-))[A-Za-z0-9_-]{20,}$",
    "^[^-]+-\\d+$",
    "^\\w+\\.\\w+$",
    "^.*$",
    "^a*",
    "^a?b?c?$",
  ])("proves %s", (pattern) => {
    expect(provesLinear(pattern)).toBe(true);
  });

  it.each([
    "^(a+)+$", // quantified group
    "^(a|a)*$", // alternation
    "^a*a*$", // a quantified atom overlaps the next
    "^[a-z]+[a-z0-9]+$",
    "^a*b?a*$", // … or one after a nullable neighbour
    "^a{2,5}a$",
    "^\\d+\\w$",
    "^.*x$",
    "^[^a]*b$",
    "^(\\w+\\s?)*$",
    "^a+?$", // lazy
    "a+$", // not anchored at the start: every start position is tried
    "^a+$|^b$",
    "^\\ba+$", // \b is an assertion, not a character
    "^(?=a)a+$",
    "^(a)\\1+$",
    "^a{,5}$", // literal braces without the u flag: not read as a count
    "^[\\d-z]+$",
    "^(a$)",
    "^a$b",
    "^(?<k>a)+$",
    "not a pattern (",
  ])("does not prove %s", (pattern) => {
    expect(provesLinear(pattern)).toBe(false);
  });
});

// --- Generated patterns -----------------------------------------------------------------------

/** Atoms over a small alphabet, so that overlaps (and so refusals) are frequent. */
const atom = fc.constantFrom(
  "a",
  "b",
  "c",
  "-",
  "\\.",
  ".",
  "\\d",
  "\\w",
  "\\s",
  "\\D",
  "[ab]",
  "[a-c]",
  "[^a]",
  "[^\\w]",
  "[\\d.]",
  "[\\s\\S]",
  "[-a]",
  "[a-]",
  "[\\]b]",
  "[\\b]",
  "\\t",
  "1",
);
const quantifier = fc.constantFrom("", "", "?", "*", "+", "{2}", "{1,3}", "{0,2}", "{2,}");
const item = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(atom, quantifier).map(([a, q]) => a + q) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom("(", "(?:"),
        fc.array(fc.tuple(atom, quantifier), { minLength: 1, maxLength: 3 }),
      )
      .map(([open, inner]) => `${open}${inner.map(([a, q]) => a + q).join("")})`),
  },
);
const pattern = fc
  .tuple(fc.array(item, { minLength: 0, maxLength: 5 }), fc.boolean())
  .map(([items, end]) => `^${items.join("")}${end ? "$" : ""}`);

/**
 * For soundness: few, mostly disjoint sets, so that many patterns are proved and many are a near
 * miss (an overlap two atoms apart, behind a nullable one).
 */
const nearMiss = (() => {
  const a = fc.constantFrom("a", "b", "c", "[ab]", "\\d", "[^b-z]");
  const q = fc.constantFrom("", "?", "*", "+", "{0,2}", "{2}", "{1,3}", "{2,}");
  const one = fc.tuple(a, q).map(([x, y]) => x + y);
  const it = fc.oneof({ weight: 5, arbitrary: one }, { weight: 1, arbitrary: one.map((x) => `(${x})`) });
  return fc
    .tuple(fc.array(it, { minLength: 1, maxLength: 7, size: "medium" }), fc.boolean())
    .map(([items, end]) => `^${items.join("")}${end ? "$" : ""}`);
})();

/** Matches as the parsed shape says: the model the proof reasons about. */
function modelMatches(shape: SimplePattern, input: string): boolean {
  const memo = new Map<number, boolean>();
  const from = (i: number, pos: number): boolean => {
    if (i === shape.atoms.length) return shape.endAnchored ? pos === input.length : true;
    const key = i * (input.length + 1) + pos;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const a = shape.atoms[i]!;
    let ok = false;
    for (let k = 0; pos + k <= input.length && k <= a.max && !ok; k++) {
      if (k > 0 && !contains(a.set, input.charCodeAt(pos + k - 1))) break;
      if (k >= a.min) ok = from(i + 1, pos + k);
    }
    memo.set(key, ok);
    return ok;
  };
  return from(0, 0);
}

const inputChar = fc.constantFrom(
  "a",
  "b",
  "c",
  "-",
  ".",
  "1",
  "_",
  " ",
  "\t",
  "\n",
  "\u2028",
  "\b",
  "]",
  "x",
);

describe("the shape prover: generated patterns", () => {
  it("reads a pattern as JavaScript does: the parsed shape matches exactly the strings the RegExp matches", () => {
    fc.assert(
      fc.property(
        pattern,
        fc.array(fc.string({ unit: inputChar, maxLength: 8 }), { maxLength: 20 }),
        (p, inputs) => {
          const shape = parseSimplePattern(p);
          fc.pre(shape !== undefined);
          const re = new RegExp(p);
          for (const s of inputs)
            expect(modelMatches(shape!, s), `${p} on ${JSON.stringify(s)}`).toBe(re.test(s));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("reads character sets exactly, over every code unit", () => {
    const sets = [
      "\\s",
      "\\S",
      "\\w",
      "\\W",
      "\\d",
      "\\D",
      ".",
      "[^\\s\\d]",
      "[\\b-]",
      "[^-\\]]",
      "[\\t-\\r ]",
    ];
    for (const s of sets) {
      const shape = parseSimplePattern(`^${s}$`);
      expect(shape, s).toBeDefined();
      const re = new RegExp(`^${s}$`);
      for (let u = 0; u <= 0xffff; u++) {
        if (contains(shape!.atoms[0]!.set, u) !== re.test(String.fromCharCode(u)))
          throw new Error(`${s} and code unit ${u.toString(16)} disagree`);
      }
    }
  });

  it("is sound: recheck, with no time limit, finds every proved pattern safe", async () => {
    let proved = 0;
    let refusedByRecheck = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(pattern, nearMiss), async (p) => {
        const r = await recheck.check(p, "", { checker: "automaton", timeout: null });
        if (provesLinear(p)) {
          proved += 1;
          expect(r.status, p).toBe("safe");
        } else if (r.status === "vulnerable") {
          refusedByRecheck += 1;
        }
      }),
      { numRuns: 500 },
    );
    // Neither side is empty: the generator reaches both proofs and real ReDoS.
    expect(proved).toBeGreaterThan(30);
    expect(refusedByRecheck).toBeGreaterThan(10);
  }, 120_000);
});
