import { get, seg } from "../api";
import { h, link, table } from "../dom";
import { action, badge, section, when } from "../format";
import { t } from "../i18n";
import { lastProof, mapLimited, providerViews } from "../load";
import type { AccessStatus, BatchSummary, PolicyView, ProviderHostStatus } from "../types";

/** Providers per host: status with reason and since, access with the last proof, last reconcile, batches. */
export async function providersPage(): Promise<HTMLElement> {
  const views = await providerViews();
  if (views.length === 0)
    return section(
      t("nav.providers"),
      h("p", {}, t("empty.providers")),
      h("code", { class: "cmd" }, "relay provider preview PROVIDER --host HOST --keys-file FILE"),
    );
  const cards = await mapLimited(views, 4, async ({ provider, status }) => {
    const rows = await mapLimited(status.hosts, 4, async (hs) => {
      const [proof, batches, policy] = await Promise.all([
        lastProof(provider.provider_id, hs.host_id),
        get<{ items: BatchSummary[] }>(
          `/api/providers/${seg(provider.provider_id)}/import-batches?host_id=${encodeURIComponent(hs.host_id)}&limit=5`,
        ),
        get<PolicyView>(
          `/api/providers/${seg(provider.provider_id)}/policy?host_id=${encodeURIComponent(hs.host_id)}`,
        ),
      ]);
      return { hs, proof, batches, policy };
    });
    return h(
      "article",
      { class: "card", "data-provider": provider.provider_id },
      h("h3", {}, provider.display_name, " ", h("code", { class: "muted" }, provider.provider_id)),
      table(
        [t("col.host"), t("col.status"), t("col.access"), t("col.reconcile"), t("col.health")],
        rows.map(({ hs, proof, policy }) => [
          h("strong", {}, hs.host_name),
          statusCell(hs),
          accessCell(provider.provider_id, hs, proof),
          reconcileCell(provider.provider_id, hs),
          healthCell(provider.provider_id, hs, policy),
        ]),
      ),
      ...rows.map(({ hs, batches }) => batchList(hs.host_name, batches.items)),
    );
  });
  return section(t("nav.providers"), h("p", { class: "muted" }, t("readonly")), ...cards);
}

function statusCell(hs: ProviderHostStatus): HTMLElement {
  return h(
    "div",
    { class: "status-cell" },
    badge(hs.status),
    h("div", { class: "small" }, hs.reason),
    h("div", { class: "muted small" }, `${t("col.since")}: `, when(hs.status_changed_at)),
  );
}

function accessCell(providerId: string, hs: ProviderHostStatus, proof: AccessStatus | null): HTMLElement {
  const gw = proof?.gateway;
  return h(
    "div",
    { class: "access-cell" },
    badge(hs.access_state),
    proof
      ? h(
          "div",
          { class: "small proof" },
          gw
            ? `HTTP ${gw.status} · ${t("proof.model")} ${gw.model ?? "?"} · ${t("proof.latency")} ${Math.round(gw.latency_ms)} ms${gw.error_code ? ` · ${gw.error_code}` : ""}`
            : proof.reason,
          h("div", { class: "muted" }, when(proof.checked_at)),
        )
      : h("div", { class: "muted small" }, t("proof.none")),
    action(t("action.probe"), ["access", "status", providerId, "--host", hs.host_name, "--probe"]),
  );
}

function reconcileCell(providerId: string, hs: ProviderHostStatus): HTMLElement {
  const run = hs.last_reconcile;
  return h(
    "div",
    {},
    run
      ? h(
          "div",
          {},
          badge(run.outcome),
          " ",
          run.findings.length > 0 ? link("/drift", `${run.findings.length} ${t("col.findings")}`) : null,
          h(
            "div",
            { class: "muted small" },
            when(run.started_at),
            ` · ${run.host_calls} ${t("reconcile.calls")}`,
          ),
        )
      : h("span", { class: "muted" }, t("reconcile.none")),
    action(t("action.reconcile"), ["reconcile", "run", providerId, "--host", hs.host_name]),
  );
}

/** The health policy: health, mode, what relay paused, the newest event (what it did or would do). */
function healthCell(providerId: string, hs: ProviderHostStatus, p: PolicyView): HTMLElement {
  const paused = p.accounts.filter((a) => a.latched).length;
  const last = p.events[0];
  return h(
    "div",
    { class: "health-cell" },
    badge(p.health),
    h("div", { class: "small" }, p.health_reason),
    h("div", { class: "muted small" }, p.mode === "enforce" ? t("policy.enforce") : t("policy.observe")),
    paused > 0 ? h("div", { class: "small" }, `${paused} ${t("policy.paused")}`) : null,
    last ? h("div", { class: "muted small" }, when(last.at), ` · ${last.message}`) : null,
    action(t("action.policy"), ["provider", "policy", providerId, "--host", hs.host_name]),
  );
}

function batchList(hostName: string, batches: BatchSummary[]): HTMLElement {
  return h(
    "div",
    { class: "batches" },
    h("h4", {}, `${t("batches.recent")} · ${hostName}`),
    batches.length === 0
      ? h("p", { class: "muted" }, t("empty.batches"))
      : table(
          [t("col.batch"), t("col.status"), t("col.mode"), t("col.keys"), t("col.created")],
          batches.map((b) => [
            link(`/batches/${encodeURIComponent(b.batch_id)}`, h("code", {}, b.batch_id)),
            h("div", {}, badge(b.status), h("div", { class: "muted small" }, b.status_reason)),
            b.mode,
            b.keys,
            when(b.created_at),
          ]),
        ),
  );
}
