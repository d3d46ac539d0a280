import { checkSync } from "recheck";

/** At most this long: a key pattern describes a key, not a grammar. */
export const MAX_KEY_PATTERN = 256;

export type PatternVerdict = { safe: true } | { safe: false; reason: string };

const verdicts = new Map<string, PatternVerdict>();

/**
 * Whether a pack's `key_pattern` can be matched against any key in linear time. A pattern with
 * catastrophic backtracking (`^(a+)+$`) stalls the whole process on one crafted key, so it is
 * refused at lint and install, and again before use for packs installed before this check. The
 * analysis (recheck: automaton check plus fuzzing, bounded at one second) is cached per pattern.
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
      const r = checkSync(pattern, "", { timeout: 1000 });
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
