import type { TriageGroup } from "../domain/key-triage.js";
import type { KeyClass } from "../domain/pack/schema.js";
import type { PlannedKeyTriage } from "../provision/types.js";
import { printable } from "../util/sanitize.js";
import { table } from "./format.js";

const MAX_LINES_LISTED = 12;

/** "key file lines 2, 5, 9 (+3 more)" */
function lines(keys: { key: string; line: number | null }[]): string {
  const known = keys.map((k) => (k.line === null ? k.key : String(k.line)));
  const shown = known.slice(0, MAX_LINES_LISTED).join(", ");
  return known.length > MAX_LINES_LISTED ? `${shown} (+${known.length - MAX_LINES_LISTED} more)` : shown;
}

/**
 * An import's keys by class, then one line per group that needs something done:
 * "balance_empty  3 key(s), lines 2, 5, 9: fund the provider account …".
 */
export function renderTriage(triage: { counts: Record<KeyClass, number>; groups: TriageGroup[] }): string[] {
  const counts = Object.entries(triage.counts)
    .filter(([, n]) => n > 0)
    .map(([cls, n]) => `${n} ${cls}`);
  if (counts.length === 0) return [];
  const out = [`keys by class: ${counts.join(", ")}`];
  for (const g of triage.groups)
    out.push(
      `  ${g.class.padEnd(13)} ${g.count} key(s), line(s) ${lines(g.keys)}: ${printable(g.next_step)}`,
    );
  return out;
}

/** A preview's pre-check, one row per key. */
export function renderPlanTriage(rows: PlannedKeyTriage[] | undefined): string[] {
  if (!rows || rows.length === 0) return [];
  return [
    "",
    table(
      ["LINE", "KEY", "CLASS", "REASON", "NEXT STEP"],
      rows.map((r) => [
        r.line,
        r.key,
        r.class,
        printable(r.reason, { max: 120 }),
        printable(r.next_step, { max: 80 }),
      ]),
    ),
  ];
}
