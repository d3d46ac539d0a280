import Table from "cli-table3";
import { InvalidArgumentError } from "commander";
import stringWidth from "string-width";
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

type Cell = string | number | null | undefined;

/** Columns whose text is free prose: shortened first when a table is wider than the terminal. */
const PROSE = /^(REASON|ERROR|DETAIL|MESSAGE|FINDING|WHY|HINT|LAST ERROR|NEXT STEP|HEAL)$/;
/** A shortened column keeps at least this much (or its heading). */
const MIN_PROSE = 12;

/** The width human output is fitted to: the terminal's, or 100 when stdout is not a terminal. */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns && stream.columns > 20 ? stream.columns : 100;
}

/**
 * Column widths that fit `width`: natural widths (display columns, so CJK counts double), then the
 * prose columns (reason, error, …) shortened, widest first, down to MIN_PROSE, never below their
 * heading. Identifiers (names, ids, URLs) are what people copy: they are never cut, so a table of
 * long identifiers may stay wider than the terminal.
 */
export function fitWidths(headers: string[], cells: string[][], width: number, gap = 2): number[] {
  const widths = headers.map((h, i) =>
    Math.max(stringWidth(h), ...cells.map((r) => stringWidth(r[i] ?? ""))),
  );
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  const prose = headers.map((_, i) => i).filter((i) => PROSE.test(headers[i] ?? ""));
  const natural = [...widths];
  const floor = (i: number) => Math.max(MIN_PROSE, stringWidth(headers[i] ?? ""));
  // One cap for every prose column, the largest that fits: the widest are shortened first and
  // none is cut below another's width (a long reason does not leave the next step a stub).
  for (let cap = Math.max(0, ...prose.map((i) => natural[i] ?? 0)); cap >= 0 && total() > width; cap--)
    for (const i of prose)
      widths[i] = Math.max(Math.min(natural[i] ?? 0, floor(i)), Math.min(natural[i] ?? 0, cap));
  return widths;
}

/**
 * Aligned, scannable tables for human output (cli-table3, borderless), fitted to the terminal:
 * long reasons end in "…"; the full text is in `--json`.
 */
export function table(headers: string[], rows: Cell[][], width = outputWidth()): string {
  const cells = rows.map((r) =>
    headers.map((_, i) => {
      const v = r[i];
      return v === null || v === undefined ? "-" : String(v).replace(/\s*[\r\n]+\s*/g, " ");
    }),
  );
  const widths = fitWidths(headers, cells, width);
  const t = new Table({
    head: headers,
    colWidths: widths,
    truncate: "…",
    wordWrap: false,
    chars: BORDERLESS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
  });
  t.push(
    widths.map((w) => "-".repeat(w)),
    ...cells,
  );
  return t
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

const BORDERLESS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

/** `text` cut to `max` display columns, ending in "…" when it was longer. */
export function shorten(text: string, max: number): string {
  if (stringWidth(text) <= max) return text;
  let out = "";
  for (const ch of text) {
    if (stringWidth(`${out}${ch}`) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

export function keyValues(pairs: [string, string | number | null | undefined][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v === null || v === undefined ? "-" : v}`)
    .join("\n");
}
