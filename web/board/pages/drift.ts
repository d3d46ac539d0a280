import { h, table } from "../dom";
import { action, badge, section, when } from "../format";
import { t } from "../i18n";
import { providerViews } from "../load";
import type { Finding } from "../types";
import { sentence } from "../words";

/** What the last reconcile of each provider on each host found, and what `--heal` would do. */
export async function driftPage(): Promise<HTMLElement> {
  const views = await providerViews();
  const blocks = views.flatMap(({ provider, status }) =>
    status.hosts
      .filter((hs) => (hs.last_reconcile?.findings.length ?? 0) > 0)
      .map((hs) => {
        const run = hs.last_reconcile!;
        return h(
          "article",
          { class: "card", "data-provider": provider.provider_id, "data-host": hs.host_name },
          h("h3", {}, provider.display_name, " · ", hs.host_name, " ", badge(hs.status)),
          h(
            "p",
            { class: "muted small" },
            `run #${run.run_id} (${run.trigger}) `,
            badge(run.outcome),
            " ",
            when(run.started_at),
          ),
          table(
            [t("col.kind"), t("col.resource"), t("col.message"), t("col.heal")],
            run.findings.map((f) => [
              badge(f.kind),
              h(
                "div",
                {},
                f.resource_type,
                " ",
                h("code", {}, f.name),
                f.host_resource_id === null ? "" : ` #${f.host_resource_id}`,
              ),
              // In Chinese, what the kind means first; the text relay or the host wrote stays as it is.
              h(
                "div",
                {},
                sentence(f.kind) ? h("div", { class: "said" }, sentence(f.kind)) : null,
                f.message,
              ),
              healText(f),
            ]),
            { class: "rows findings" },
          ),
          action(t("action.heal"), [
            "reconcile",
            "run",
            provider.provider_id,
            "--host",
            hs.host_name,
            "--heal",
          ]),
          run.findings.some((f) => f.kind === "missing" && f.resource_type === "account")
            ? action(t("action.import"), [
                "provider",
                "import",
                provider.provider_id,
                "--host",
                hs.host_name,
                "--keys-file",
                "FILE",
                "--mode",
                "partial",
              ])
            : null,
        );
      }),
  );
  return section(t("nav.drift"), blocks.length ? blocks : h("p", { class: "muted" }, t("empty.drift")));
}

function healText(f: Finding): HTMLElement {
  if (f.healed) return badge("healed");
  if (f.heal_action === "rebind_account") return h("span", { class: "heal" }, t("heal.rebind_account"));
  if (f.heal_action === "reassign_subscription")
    return h("span", { class: "heal" }, t("heal.reassign_subscription"));
  if (f.heal_action === "recreate_channel") return h("span", { class: "heal" }, t("heal.recreate_channel"));
  if (f.kind === "missing" && f.resource_type === "account")
    return h("span", { class: "muted" }, t("heal.reimport"));
  return h("span", { class: "muted" }, t("heal.none"));
}
