import { ExitCode } from "../../../domain/errors.js";
import type { ImportResult } from "../../../provision/import.js";
import type { ImportPlan } from "../../../provision/types.js";
import { table } from "../../format.js";
import { renderPlanTriage, renderTriage } from "../../triage-render.js";

/**
 * A plan for people. `exceptions`: only the keys that will not simply be created or reused (the
 * confirmation before an import, which must stay short for hundreds of keys).
 */
export function renderPlan(plan: ImportPlan, keys: "all" | "exceptions" = "all"): string {
  const shown =
    keys === "all" ? plan.keys : plan.keys.filter((k) => k.action !== "create" && k.action !== "reuse");
  const lines = [
    `provider ${plan.provider_id} (pack ${plan.pack_version}) → host ${plan.host_name} (${plan.host_version}), mode ${plan.mode}, generation ${plan.generation}`,
    `mapping: platform ${plan.mapping.platform}${plan.mapping.via_fallback ? " (fallback: force_chat_completions)" : ""}, base URL ${plan.mapping.base_url}`,
    "",
    table(
      ["RESOURCE", "NAME", "ACTION", "REASON"],
      plan.resources.map((r) => [r.type, r.name, r.action, r.reason]),
    ),
    ...(shown.length > 0
      ? [
          "",
          table(
            ["LINE", "KEY", "ACCOUNT", "ACTION", "REASON"],
            shown.map((k) => [k.line, k.key, k.account_name, k.action, k.reason]),
          ),
        ]
      : []),
  ];
  if (plan.subscriptions.length > 0) {
    lines.push(
      "",
      table(
        ["USER", "DAYS", "ACTION", "REASON"],
        plan.subscriptions.map((s) => [s.user_id, s.validity_days, s.action, s.reason]),
      ),
    );
  }
  const s = plan.summary;
  const subs = (a: string) => plan.subscriptions.filter((x) => x.action === a).length;
  lines.push(
    "",
    `${s.keys} key(s): ${s.create} create, ${s.reuse} reuse, ${s.conflict} conflict, ${s.skip} skip (resources and keys); ${s.duplicates} duplicate(s) and ${s.ignored_lines} blank/comment line(s) ignored`,
  );
  if (plan.subscriptions.length > 0)
    lines.push(
      `${plan.subscriptions.length} subscription target(s): ${subs("create")} assign, ${subs("reuse")} already subscribed, ${subs("conflict")} conflict, ${subs("skip")} skip`,
    );
  lines.push(...renderPlanTriage(plan.key_triage));
  for (const w of plan.warnings) lines.push(`! ${w}`);
  if (plan.blocked) lines.push(...plan.blocked_reasons.map((r) => `✗ ${r}`));
  lines.push(`fingerprint ${plan.fingerprint}`);
  return lines.join("\n");
}

/** An import's answer for people: the verdict and counts, then only what failed (by key-file line). */
export function renderImport(r: ImportResult): string {
  const s = r.summary;
  const lines = [
    `batch ${r.batch_id}: ${r.status.toUpperCase()} — ${r.status_reason}`,
    `provider status: ${r.provider_status}; access: ${r.access_closure_status}`,
    `${r.keys.length} key(s): ${s.working} working (${s.reused} reused), ${s.failed} failed, ${s.skipped} skipped`,
  ];
  const failed = r.keys.filter((k) => k.status === "failed" || k.status === "skipped");
  if (failed.length > 0)
    lines.push(
      "",
      table(
        ["LINE", "KEY", "STATUS", "ERROR"],
        failed.map((k) => [k.line, k.key, k.status, k.error ? `${k.error_code}: ${k.error}` : k.error_code]),
      ),
    );
  const refused = r.subscriptions.filter((x) => x.status === "failed");
  if (refused.length > 0)
    lines.push(
      "",
      table(
        ["USER", "SUBSCRIPTION", "REASON"],
        refused.map((x) => [x.user_id, x.status, x.reason]),
      ),
    );
  lines.push(...renderTriage(r.triage));
  for (const w of r.warnings) lines.push(`! ${w}`);
  if (r.status === "rolled_back" || r.status === "failed")
    lines.push("", `Nothing of this batch remains on the host.`);
  lines.push(`Every key and resource: \`relay batch show ${r.batch_id}\` (or --json).`);
  return lines.join("\n");
}

export function exitForBatch(status: string): number {
  if (status === "succeeded") return ExitCode.ok;
  if (status === "partially_succeeded") return ExitCode.partial;
  return ExitCode.error;
}
