import { type AnalysisOutcome, analysePattern } from "./pattern-analysis.js";
import { provesLinear } from "./pattern-proof.js";

/** At most this long: a key pattern describes a key, not a grammar. */
export const MAX_KEY_PATTERN = 256;

/**
 * The work one analysis may do, in recheck's checkpoints (not time). Patterns like
 * `^(?:sk|ak)-[a-z0-9]{32,}$` need about 26,000; a plain sequence needs none (it is proved by
 * its shape).
 */
export const ANALYSIS_BUDGET = 50_000;

/** At most this many of one pack's patterns are analysed; any further ones are refused unread. */
export const MAX_ANALYSED_PER_PACK = 4;

export type PatternVerdict = { safe: true; by: "shape" | "analysis" } | { safe: false; reason: string };

export interface PatternCheckOptions {
  budget?: number;
  maxAnalysed?: number;
  /** Called before patterns go to the analysis (which takes seconds), with their number. */
  onAnalysis?: (count: number) => void;
}

const analysed = new Map<string, Promise<PatternVerdict>>();

/** The verdict that needs no analysis, if there is one. */
function verdictByShape(pattern: string): PatternVerdict | undefined {
  if (pattern.length > MAX_KEY_PATTERN)
    return { safe: false, reason: `longer than ${MAX_KEY_PATTERN} characters` };
  try {
    new RegExp(pattern);
  } catch (e) {
    return { safe: false, reason: `not a valid regular expression: ${(e as Error).message}` };
  }
  return provesLinear(pattern) ? { safe: true, by: "shape" } : undefined;
}

function fromAnalysis(outcome: AnalysisOutcome, budget: number): PatternVerdict {
  switch (outcome.status) {
    case "safe":
      return { safe: true, by: "analysis" };
    case "vulnerable":
      return {
        safe: false,
        reason: `${outcome.complexity} backtracking (ReDoS): one crafted key can stall relay`,
      };
    case "unknown":
      return outcome.kind === "timeout"
        ? {
            safe: false,
            reason: `too complex to prove linear within the analysis budget (${budget} steps); write it as a plain sequence such as ^sk-[A-Za-z0-9]{32,}$`,
          }
        : {
            safe: false,
            reason: `could not be shown to match in linear time (${outcome.message ?? outcome.kind})`,
          };
    case "failed":
      return { safe: false, reason: `too complex to prove linear: the analysis failed (${outcome.message})` };
  }
}

/**
 * Whether each pattern can be matched against any key in linear time. A pattern with catastrophic
 * backtracking (`^(a+)+$`) stalls the whole process on one crafted key, so it is refused at lint
 * and install, and again before use for packs installed before this check.
 *
 * The verdict is the same on every machine, idle or saturated: a plain sequence is proved by its
 * shape (pattern-proof.ts); any other pattern goes to recheck's automaton checker in a worker
 * thread, bounded by the work it does, and is refused when that runs out. At most `maxAnalysed`
 * patterns (the first, in the order given) are analysed; later ones are refused without it, so a
 * pack of many hard patterns costs a bounded amount of work. Analysis verdicts are cached.
 */
export async function checkKeyPatterns(
  patterns: readonly string[],
  options: PatternCheckOptions = {},
): Promise<Map<string, PatternVerdict>> {
  const budget = options.budget ?? ANALYSIS_BUDGET;
  const maxAnalysed = options.maxAnalysed ?? MAX_ANALYSED_PER_PACK;
  const verdicts = new Map<string, PatternVerdict | Promise<PatternVerdict>>();
  const hard: string[] = [];
  for (const pattern of new Set(patterns)) {
    const quick = verdictByShape(pattern);
    if (quick) verdicts.set(pattern, quick);
    else hard.push(pattern);
  }
  if (hard.length > 0) options.onAnalysis?.(Math.min(hard.length, maxAnalysed));
  hard.forEach((pattern, i) => {
    if (i >= maxAnalysed) {
      verdicts.set(pattern, {
        safe: false,
        reason: `not analysed: at most ${maxAnalysed} key patterns per pack that are not a plain sequence are analysed`,
      });
      return;
    }
    const key = `${budget}\0${pattern}`;
    let verdict = analysed.get(key);
    if (!verdict) {
      verdict = analysePattern(pattern, budget).then((outcome) => {
        if (outcome.status === "failed") analysed.delete(key); // the worker's failure, not the pattern's
        return fromAnalysis(outcome, budget);
      });
      analysed.set(key, verdict);
    }
    verdicts.set(pattern, verdict);
  });
  const out = new Map<string, PatternVerdict>();
  for (const [pattern, verdict] of verdicts) out.set(pattern, await verdict);
  return out;
}

/** The verdict on one pattern (see checkKeyPatterns). */
export async function checkKeyPattern(pattern: string): Promise<PatternVerdict> {
  return (await checkKeyPatterns([pattern])).get(pattern)!;
}
