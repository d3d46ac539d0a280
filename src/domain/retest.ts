import { invalidInput } from "./errors.js";

/**
 * Which accounts a reconcile re-tests. Each test is a real (billed) call to the provider, so a
 * schedule every 15 minutes over thousands of keys must not test them all every time.
 * - `all`: every account still on the host;
 * - `failed`: only the accounts that failed their test in the previous run;
 * - `sample:N`: N accounts picked at random, plus those that failed in the previous run (a failure
 *   is followed until it clears);
 * - `none`: no account tests (drift and access only).
 */
export type RetestPolicy =
  | { kind: "all" }
  | { kind: "failed" }
  | { kind: "none" }
  | { kind: "sample"; size: number };

export const RETEST_PATTERN = "^(all|failed|none|sample:[1-9][0-9]{0,3})$";
const RETEST = new RegExp(RETEST_PATTERN);

/** What a scheduled run re-tests unless told otherwise; manual and CLI runs test `all`. */
export const SCHEDULED_RETEST: RetestPolicy = { kind: "sample", size: 5 };

export function parseRetest(text: string): RetestPolicy {
  if (!RETEST.test(text))
    throw invalidInput("RETEST_INVALID", "--retest takes all, failed, none or sample:N (N from 1 to 9999)", {
      hint: "For example --retest sample:20, or --retest failed.",
    });
  if (text.startsWith("sample:")) return { kind: "sample", size: Number(text.slice(7)) };
  return { kind: text as "all" | "failed" | "none" };
}

export function formatRetest(p: RetestPolicy): string {
  return p.kind === "sample" ? `sample:${p.size}` : p.kind;
}

/**
 * The accounts to re-test, in their given order: `present` are the accounts still on the host
 * (by host id), `failedBefore` the host ids that failed in the previous run.
 */
export function pickRetests<T>(
  present: T[],
  idOf: (t: T) => number,
  failedBefore: ReadonlySet<number>,
  policy: RetestPolicy,
  random: () => number = Math.random,
): T[] {
  switch (policy.kind) {
    case "all":
      return present;
    case "none":
      return [];
    case "failed":
      return present.filter((t) => failedBefore.has(idOf(t)));
    case "sample": {
      const rest = present.filter((t) => !failedBefore.has(idOf(t)));
      // Partial Fisher–Yates: the first `size` places are a uniform sample.
      for (let i = 0; i < Math.min(policy.size, rest.length); i++) {
        const j = i + Math.floor(random() * (rest.length - i));
        [rest[i], rest[j]] = [rest[j] as T, rest[i] as T];
      }
      const sampled = new Set(rest.slice(0, policy.size));
      return present.filter((t) => failedBefore.has(idOf(t)) || sampled.has(t));
    }
  }
}
