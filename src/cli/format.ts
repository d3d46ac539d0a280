import { InvalidArgumentError } from "commander";
import type { SubscriptionTarget } from "../domain/plan.js";

/** Commander parser for a repeatable `USER_ID[:DAYS]` option. */
export function parseUserTarget(value: string, previous: SubscriptionTarget[] = []): SubscriptionTarget[] {
  const m = /^([1-9][0-9]{0,17})(?::([1-9][0-9]{0,4}))?$/.exec(value);
  if (!m?.[1]) throw new InvalidArgumentError("expected USER_ID or USER_ID:DAYS, e.g. 42 or 42:30");
  // sub2api ids are int64, JavaScript numbers exact only to 2^53 - 1: refuse rather than round.
  if (!Number.isSafeInteger(Number(m[1])))
    throw new InvalidArgumentError(
      `user id ${m[1]} is larger than ${Number.MAX_SAFE_INTEGER}, the largest relay can use exactly`,
    );
  return [...previous, { userId: Number(m[1]), ...(m[2] ? { days: Number(m[2]) } : {}) }];
}

/** Aligned, scannable tables for human output. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? "-" : String(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export function keyValues(pairs: [string, string | number | null | undefined][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v === null || v === undefined ? "-" : v}`)
    .join("\n");
}
