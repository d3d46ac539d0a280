import { Type } from "@sinclair/typebox";
import type { ProviderStatusView } from "../../../reconcile/status.js";
import { printable } from "../../../util/sanitize.js";
import { defineCommand, option } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadStatus = () => import("../../../reconcile/status.js");

function renderStatus(v: ProviderStatusView): string {
  return [
    table(
      ["HOST", "HEALTH", "SYNC", "STATUS", "SINCE", "ACCESS", "LAST RECONCILE", "REASON"],
      v.hosts.map((h) => [
        h.host_reachable === "no" ? `${h.host_name} (unreachable)` : h.host_name,
        h.health.state,
        h.sync.state,
        h.status,
        h.status_changed_at,
        h.access_state,
        h.last_reconcile ? `${h.last_reconcile.outcome} @ ${h.last_reconcile.started_at}` : null,
        h.reason,
      ]),
    ),
    ...v.hosts.flatMap((h) => [
      `  ${h.host_name}: health ${h.health.state} — ${h.health.reason}`,
      `  ${h.host_name}: sync ${h.sync.state} — ${h.sync.reason}`,
    ]),
    ...v.hosts.flatMap((h) => balanceLines(h.host_name, h.balances)),
    ...v.hosts.flatMap((h) =>
      (h.last_reconcile?.findings ?? []).flatMap((f) => [
        `  ${h.host_name}: ${f.kind} — ${f.message}`,
        ...(f.next_step ? [`    → ${f.next_step}`] : []),
      ]),
    ),
  ].join("\n");
}

export const providerStatus = defineCommand({
  name: "status",
  description:
    "provider status per host: health and sync (docs/operations.md), status, access, last reconcile and its findings",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    option("--host <host>", "only this host"),
    option(
      "--balance",
      "also ask each host for the accounts' provider balances (sub2api 0.1.178+, Kimi and DeepSeek pay-as-you-go)",
    ),
  ],
  schema: Type.Object(
    { host: Type.Optional(Type.String()), balance: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  help: "\nExample:\n  relay provider status deepseek --balance",
  action: async ([providerId]: [string], opts, cmd) => {
    await runReadOnly<ProviderStatusView>(cmd, async (ctx) => {
      const plain = await (await loadStatus()).providerStatus(ctx, providerId, opts.host);
      const v = opts.balance
        ? await (await import("../../../reconcile/balance.js")).withBalances(ctx, plain)
        : plain;
      return { data: v, human: () => renderStatus(v) };
    });
  },
});

/** "  prod: deepseek-1a2b3c4d-… 110 CNY, 2.5 USD" per account, or the host's reason it could not tell. */
function balanceLines(host: string, balances: ProviderStatusView["hosts"][number]["balances"]): string[] {
  if (!balances) return [];
  return balances.map((b) => {
    const amounts = b.balances.map((x) => `${x.balance} ${x.currency}`).join(", ");
    const said = b.success ? amounts || "no balance given" : `unknown (${b.error ?? "no answer"})`;
    return `  ${host}: ${b.account_name} balance ${printable(said)}${b.available === false ? " (not available)" : ""}`;
  });
}
