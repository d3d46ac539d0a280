import { invalidInput } from "../../../domain/errors.js";
import type { PolicyView } from "../../../policy/manage.js";
import type { PolicyPassItem } from "../../../policy/pass.js";
import { printable } from "../../../util/sanitize.js";
import { table } from "../../format.js";

/** The policy part of `relay reconcile run --enforce`: what was done, or in observe mode what would be. */
export function renderPolicyPass(items: PolicyPassItem[]): string {
  const lines: string[] = [];
  for (const i of items) {
    if (!i.result) {
      lines.push(`health policy ${i.provider_id} on ${i.host_name}: not run — ${printable(i.skipped ?? "")}`);
      continue;
    }
    const r = i.result;
    lines.push(
      `health policy ${r.provider_id} on ${r.host_name} (${r.mode === "enforce" ? "enforced" : "observe mode: nothing written to the host"}): health ${r.previous_health} → ${r.health} — ${printable(r.health_reason)}`,
    );
    for (const a of r.actions.filter((x) => x.action !== "still_paused")) {
      const verb =
        r.mode === "enforce" || (a.action !== "pause" && a.action !== "resume")
          ? a.action
          : `would ${a.action}`;
      lines.push(
        `  ${verb.replace("_", " ").padEnd(13)} ${printable(a.name)} (#${a.account_id}): ${printable(a.reason)}${a.error ? ` — host refused: ${printable(a.error)}` : ""}`,
      );
    }
    for (const d of r.alerts) lines.push(`  alert → ${d.target}: ${d.ok ? "sent" : "not delivered"}`);
  }
  return lines.join("\n");
}

export function renderPolicy(v: PolicyView): string {
  return [
    `${v.provider_id} on ${v.host_name}: ${v.mode === "enforce" ? "enforced" : "observe mode (relay reports, writes nothing)"}; pause after ${v.fail_after} failed tests, resume after ${v.resume_after} passing (doubled per earlier resume), floor ${v.floor} per group`,
    `health: ${v.health}${v.health_changed_at ? ` since ${v.health_changed_at}` : ""} — ${printable(v.health_reason)}`,
    v.accounts.length === 0
      ? "no account watched yet"
      : table(
          ["ACCOUNT", "ID", "FAILS", "PASSES", "RESUMES", "PAUSED BY RELAY", "LAST"],
          v.accounts.map((a) => [
            printable(a.name),
            a.account_id,
            a.fail_streak,
            a.pass_streak,
            a.resumes,
            a.latched ? `${a.latched_at} ${printable(a.latch_reason ?? "")}` : "-",
            a.last_action ?? "-",
          ]),
        ),
    ...v.events.slice(0, 10).map((e) => `  ${e.at} ${e.kind}: ${printable(e.message)}`),
  ].join("\n");
}

export function onOff(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "on" || value === "off") return value === "on";
  throw invalidInput("ENFORCE_INVALID", "--enforce takes on or off");
}

export function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value))
    throw invalidInput("POLICY_THRESHOLD_INVALID", `${name} takes a whole number from 1 to 100`);
  return Number(value);
}
