import { createRequire } from "node:module";

/**
 * recheck is loaded on the first check, not with this module: it takes ~70 ms to load, and every
 * command (`relay --help` too) imports the pack code.
 */
let recheck: typeof import("recheck") | undefined;
const analyser = () => {
  recheck ??= createRequire(import.meta.url)("recheck") as typeof import("recheck");
  return recheck;
};

/** At most this long: a key pattern describes a key, not a grammar. */
export const MAX_KEY_PATTERN = 256;

export type PatternVerdict = { safe: true } | { safe: false; reason: string };

const verdicts = new Map<string, PatternVerdict>();

/**
 * Whether a pack's `key_pattern` can be matched against any key in linear time. A pattern with
 * catastrophic backtracking (`^(a+)+$`) stalls the whole process on one crafted key, so it is
 * refused at lint and install, and again before use for packs installed before this check. The
 * analysis (recheck's automaton checker, bounded at one second) is cached per pattern.
 */
export function checkKeyPattern(pattern: string): PatternVerdict {
  const known = verdicts.get(pattern);
  if (known) return known;
  let verdict: PatternVerdict;
  if (pattern.length > MAX_KEY_PATTERN) {
    verdict = { safe: false, reason: `longer than ${MAX_KEY_PATTERN} characters` };
  } else {
    try {
      new RegExp(pattern);
      // The automaton checker decides exactly and fast (milliseconds, no fuzzing); a pattern it
      // cannot analyse (lookaround) comes back `unknown` and is refused: key patterns need none.
      const r = analyser().checkSync(pattern, "", { timeout: 1000, checker: "automaton" });
      verdict =
        r.status === "safe"
          ? { safe: true }
          : r.status === "vulnerable"
            ? {
                safe: false,
                reason: `${r.complexity.type} backtracking (ReDoS): one crafted key can stall relay`,
              }
            : { safe: false, reason: "could not be shown to match in linear time" };
    } catch (e) {
      verdict = { safe: false, reason: `not a valid regular expression: ${(e as Error).message}` };
    }
  }
  verdicts.set(pattern, verdict);
  return verdict;
}
