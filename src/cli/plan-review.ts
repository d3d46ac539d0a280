import { writeFileSync } from "node:fs";
import { invalidInput } from "../domain/errors.js";
import { FileRefused, readBoundedFile } from "../util/bounded-read.js";
import { printable } from "../util/sanitize.js";
import { confirmOrRefuse } from "./confirm.js";

const MAX_PLAN_BYTES = 4 * 1024 * 1024;

/** `--plan-out FILE`: `{kind, version: 1, plan}`, readable by its owner only (no key material in it). */
export function writeReviewedPlan(path: string, kind: string, plan: unknown): void {
  writeFileSync(path, `${JSON.stringify({ kind, version: 1, plan }, null, 2)}\n`, { mode: 0o600 });
}

/** How `readReviewedPlan` names the file and judges what it holds. */
export interface PlanFileRules {
  kind: string;
  /** `cannot use ${unreadable}: …` when it cannot be read or is not JSON. */
  unreadable: string;
  /** The message when the JSON is not such a plan. */
  notOurs: string;
  hint?: string;
  /** Beyond its kind: whether the file's fields are those this command wrote. */
  accept: (file: { version?: unknown; plan?: { fingerprint?: unknown } }) => boolean;
}

/** Reads a file `writeReviewedPlan` wrote; anything else is refused (PLAN_FILE_INVALID). */
export function readReviewedPlan<P>(path: string, rules: PlanFileRules): P {
  const hint = rules.hint ? { hint: rules.hint } : undefined;
  let parsed: { kind?: unknown; version?: unknown; plan?: { fingerprint?: unknown } } | null;
  try {
    parsed = JSON.parse(readBoundedFile(path, MAX_PLAN_BYTES).toString("utf8"));
  } catch (err) {
    const why = err instanceof FileRefused ? err.message : "it is not JSON";
    throw invalidInput("PLAN_FILE_INVALID", `cannot use ${rules.unreadable}: ${why}`, hint);
  }
  if (parsed?.kind !== rules.kind || !rules.accept(parsed))
    throw invalidInput("PLAN_FILE_INVALID", rules.notOurs, hint);
  return parsed.plan as P;
}

/** What `confirmReviewed` needs: the command's own preview, question and rendering. */
export interface Review<P extends { fingerprint: string }> {
  yes: boolean | undefined;
  /** A key file given as `-`: standard input is taken by the keys, so --yes is required. */
  keysFromStdin?: boolean;
  /** The fingerprint of a plan file given with --plan, if any. */
  fingerprint: string | undefined;
  preview: () => Promise<P>;
  question: string;
  render: (plan: P) => string;
}

/**
 * A write that was planned: without --yes, the plan is previewed and shown, the operator asked, and
 * the fingerprint of what was shown returned, so the write refuses if the host changed in between.
 * With --yes, the plan file's fingerprint (if any) is what binds it.
 */
export async function confirmReviewed<P extends { fingerprint: string }>(
  r: Review<P>,
): Promise<string | undefined> {
  if (r.yes !== true && r.keysFromStdin)
    throw invalidInput("CONFIRMATION_REQUIRED", "add --yes when the keys come from standard input");
  if (r.yes === true) return r.fingerprint;
  const plan = await r.preview();
  await confirmOrRefuse(false, r.question, () => printable(r.render(plan), { lines: true }));
  return r.fingerprint ?? plan.fingerprint;
}
