import { invalidInput } from "../../../domain/errors.js";
import { parseIsoDay } from "../../../domain/pack/lifecycle.js";
import type { PackIssue, PackReport } from "../../../domain/pack/validate.js";
import type { PackView } from "../../../packs/packs.js";
import { keyValues } from "../../format.js";

export type LintView = Omit<PackReport, "manifest" | "providers"> & { providers: string[]; strict: boolean };

export function renderIssues(issues: PackIssue[]): string {
  return issues
    .map(
      (i) =>
        `${i.severity === "error" ? "✗" : "!"} ${i.code.padEnd(34)} ${i.file ?? ""}${i.pointer && i.pointer !== "/" ? `#${i.pointer}` : ""}  ${i.message}`,
    )
    .join("\n");
}

export function renderPack(p: PackView): string {
  return [
    keyValues([
      ["pack", `${p.pack_id} ${p.version}`],
      ["name", p.name],
      ["host range", `${p.host.app} ${p.host.version_range}`],
      ["providers", p.providers.join(", ")],
      ["installed", p.installed_at],
      ["source", p.source],
    ]),
    "",
    `history: ${p.history.map((h) => `${h.version}${h.current ? " (current)" : ""}`).join(", ")}`,
  ].join("\n");
}

/** `--as-of`: a calendar day, read as UTC midnight. */
export function parseDay(text: string): Date {
  const day = parseIsoDay(text);
  if (!day) throw invalidInput("AS_OF_INVALID", `--as-of "${text}" is not a day (YYYY-MM-DD)`);
  return day;
}
