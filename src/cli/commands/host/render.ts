import { ExitCode } from "../../../domain/errors.js";
import { OPTIONAL_CAPABILITIES, REQUIRED_CAPABILITIES } from "../../../host/sub2api/types.js";
import type { HostView } from "../../../hosts/hosts.js";
import type { ProbeUserRemoval } from "../../../hosts/probe-user.js";
import { printable } from "../../../util/sanitize.js";
import { keyValues } from "../../format.js";

const CAPS_ORDER = [...REQUIRED_CAPABILITIES, ...OPTIONAL_CAPABILITIES];

/** relay's probe user on the host, or the operator's; "not created yet" before the first proof. */
export function probeUserLine(h: HostView): string | null {
  const u = h.probe_user;
  if (!u) return null;
  if (!u.created_by_relay)
    return u.user_id === null ? `${u.email} (the operator's)` : `${u.email} (#${u.user_id}, the operator's)`;
  return u.user_id === null
    ? `${u.email} (relay's, not created yet)`
    : `${u.email} (#${u.user_id}, created by relay to prove access)`;
}

export function renderHost(h: HostView): string {
  const caps = h.capabilities as Record<string, unknown>;
  const yes = CAPS_ORDER.filter((k) => caps[k] === true);
  const no = CAPS_ORDER.filter((k) => caps[k] === false);
  const cn = Array.isArray(caps.cn_platforms) ? (caps.cn_platforms as string[]) : [];
  const lines = [
    keyValues([
      ["host", `${h.name} (${h.host_id})`],
      ["url", h.base_url],
      ["version", h.version],
      ["profile", h.profile],
      ["status", hostState(h).toUpperCase()],
      ["reachable", h.reachable],
      ["last probe ok", h.last_probe_ok_at],
      ...(h.last_error
        ? ([["last error", `${h.last_error.at} ${h.last_error.code}: ${h.last_error.message}`]] as [
            string,
            string,
          ][])
        : []),
      ["admin key", h.admin_key_hint],
      ["install id", h.install_id],
      ["probe identity", h.probe_identity],
      ["probe user", probeUserLine(h)],
    ]),
    "",
    `capabilities:   ${yes.join(", ") || "-"}`,
    `missing:        ${no.join(", ") || "-"}`,
    `CN platforms:   ${cn.join(", ") || "none"}`,
  ];
  if (h.blockers.length > 0) lines.push(`blockers:       ${h.blockers.join(", ")}`);
  if (h.providers.length > 0) lines.push("", "providers of the installed packs on this build:");
  for (const p of h.providers) {
    lines.push(
      p.status === "supported"
        ? `  ✓ ${p.provider_id}: ${p.mode === "native" ? `own platform \`${p.platform}\`` : "OpenAI fallback (force_chat_completions)"}`
        : `  ✗ ${p.provider_id}: cannot be served — ${p.reason}${p.first_working_version ? ` (works from ${p.first_working_version})` : ""}`,
    );
  }
  for (const r of h.status_reasons) lines.push("", `✗ ${r.message}`, ...(r.hint ? [`  → ${r.hint}`] : []));
  if (h.warnings.length > 0) lines.push("");
  for (const w of h.warnings) lines.push(`! ${w.message}`);
  return lines.join("\n");
}

/** A list of what goes, with what happens to it; "none" when there is nothing. */
const listOf = (items: string[], fate: string) =>
  items.length === 0 ? "none" : `${items.join(", ")} (${fate})`;

/** What a removal of the probe user removes (or removed), and what happens next. */
export function renderProbeUserRemoval(r: ProbeUserRemoval, asking = false): string {
  if (r.outcome === "nothing_to_remove")
    return `host ${r.host_name} has no probe user relay made; nothing to remove (the next access proof creates ${r.next_email})`;
  const u = r.probe_user;
  const done = r.outcome === "removed";
  const user = u
    ? `${u.email}${u.user_id !== null ? ` (#${u.user_id})` : ""}${u.on_host ? "" : ", already gone from the host"}`
    : "none recorded";
  const subscriptions = r.subscriptions.map((x) => `${x.provider_id} #${x.subscription_id ?? "?"}`);
  const keys = r.api_keys.map((k) => `${k.name} #${k.key_id ?? "?"}`);
  const lines = [
    done
      ? `removed relay's probe user from host ${r.host_name}:`
      : `relay would remove its probe user from host ${r.host_name}:`,
    `  user:           ${user}`,
    `  subscriptions:  ${listOf(subscriptions, done ? "revoked" : "to be revoked")}`,
    `  API keys:       ${listOf(keys, done ? "deleted with the user" : "to be deleted with the user")}`,
    `  providers:      ${r.providers.join(", ") || "none"}`,
    "",
    `The next access proof creates a new probe user, ${r.next_email}. ${r.note}`,
  ];
  if (!done && !asking) lines.push("", "Nothing was changed (dry run).");
  return lines.join("\n");
}

/**
 * What `host list` and `host show` say first: `unreachable` when the host did not answer its
 * newest probe (the capability verdict, `supported` or `unsupported`, is about an older answer).
 */
export function hostState(h: HostView): string {
  return h.reachable === "no" ? "unreachable" : h.status;
}

/** Progress for people: on a terminal only, on stderr (stdout stays the result). */
export const say = (line: string) => {
  if (process.stderr.isTTY) process.stderr.write(`${printable(line)}\n`);
};

/** An unsupported host is a failed onboarding: the record is kept, the exit code says it is not usable. */
export function exitFor(h: HostView) {
  return h.status === "supported" ? ExitCode.ok : ExitCode.error;
}
