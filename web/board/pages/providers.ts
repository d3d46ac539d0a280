import { all, get, seg } from "../api";
import { h, link, table } from "../dom";
import { action, badge, section, when } from "../format";
import { t } from "../i18n";
import { liveBar } from "../live";
import { lastProof, mapLimited, providerViews } from "../load";
import type {
  AccessStatus,
  BatchSummary,
  Host,
  PolicyView,
  ProviderHostStatus,
  ProviderListItem,
} from "../types";
import { sentence } from "../words";
import { filterBar, type RowFilter, summary } from "./triage";

interface Row {
  hs: ProviderHostStatus;
  proof: AccessStatus | null;
  batches: BatchSummary[];
  policy: PolicyView;
}
interface Card {
  provider: ProviderListItem;
  rows: Row[];
}

/** Severity as the API's domain orders it (src/domain/axes.ts `severity`): down, degraded, out of sync, rest. */
export function severity(hs: Pick<ProviderHostStatus, "health" | "sync">): number {
  if (hs.health.state === "down") return 0;
  if (hs.health.state === "degraded") return 1;
  if (hs.sync.state === "out_of_sync") return 2;
  return hs.health.state === "unknown" ? 3 : 4;
}

async function load(): Promise<{ cards: Card[]; hosts: Host[] }> {
  const [views, hosts] = await Promise.all([providerViews(), all<Host>("/api/hosts")]);
  const cards = await mapLimited(views, 4, async ({ provider, status }) => ({
    provider,
    rows: await mapLimited(status.hosts, 4, async (hs) => {
      const [proof, batches, policy] = await Promise.all([
        // Never configured: no proof to show (and no 404 in the console at every refresh).
        hs.access_state === "not_configured" ? null : lastProof(provider.provider_id, hs.host_id),
        get<{ items: BatchSummary[] }>(
          `/api/providers/${seg(provider.provider_id)}/import-batches?host_id=${encodeURIComponent(hs.host_id)}&limit=5`,
        ),
        get<PolicyView>(
          `/api/providers/${seg(provider.provider_id)}/policy?host_id=${encodeURIComponent(hs.host_id)}`,
        ),
      ]);
      return { hs, proof, batches: batches.items, policy };
    }),
  }));
  return { cards, hosts };
}

/**
 * Providers per host, worst first: a summary of what is broken, a filter, and for each host health
 * and sync with their reasons, status, access with the last proof, last reconcile and batches.
 * Refreshed in place every few seconds (live.ts).
 */
export async function providersPage(): Promise<HTMLElement> {
  let data: { cards: Card[]; hosts: Host[] } = { cards: [], hosts: [] };
  const summaryBox = h("div", { id: "summary" });
  const list = h("div", { id: "provider-list" });
  let filter: RowFilter = { text: "", state: "" };
  const draw = () => {
    summaryBox.replaceChildren(
      summary(
        data.cards.flatMap((c) => c.rows.map((r) => r.hs)),
        data.hosts,
        (state) => setState(state),
      ),
    );
    list.replaceChildren(...cardsOf(data.cards, filter));
  };
  const { bar: filters, setState } = filterBar((f) => {
    filter = f;
    draw();
  });
  const live = await liveBar(async () => {
    data = await load();
    draw();
  });
  if (data.cards.length === 0)
    return section(
      t("nav.providers"),
      live,
      h("p", {}, t("empty.providers")),
      h("code", { class: "cmd" }, "relay provider preview PROVIDER --host HOST --keys-file FILE"),
    );
  return section(
    t("nav.providers"),
    live,
    summaryBox,
    filters,
    h("p", { class: "muted" }, t("readonly")),
    list,
  );
}

function matches(provider: ProviderListItem, hs: ProviderHostStatus, f: RowFilter): boolean {
  const text = f.text.trim().toLowerCase();
  const named = [provider.provider_id, provider.display_name, hs.host_name].some((s) =>
    s.toLowerCase().includes(text),
  );
  const state =
    f.state === "" ||
    hs.health.state === f.state ||
    hs.sync.state === f.state ||
    (f.state === "unreachable" && hs.host_reachable === "no");
  return named && state;
}

function cardsOf(cards: Card[], f: RowFilter): HTMLElement[] {
  const shown = cards
    .map((c) => ({
      ...c,
      rows: c.rows
        .filter((r) => matches(c.provider, r.hs, f))
        .sort((a, b) => severity(a.hs) - severity(b.hs)),
    }))
    .filter((c) => c.rows.length > 0);
  const worst = (c: Card) => Math.min(...c.rows.map((r) => severity(r.hs)));
  shown.sort((a, b) => worst(a) - worst(b) || a.provider.provider_id.localeCompare(b.provider.provider_id));
  if (shown.length === 0) return [h("p", { class: "muted", id: "no-match" }, t("filter.none"))];
  return shown.map(({ provider, rows }) =>
    h(
      "article",
      {
        class: "card",
        "data-provider": provider.provider_id,
        "data-severity": String(worst({ provider, rows })),
      },
      h("h3", {}, provider.display_name, " ", h("code", { class: "muted" }, provider.provider_id)),
      table(
        [
          t("col.host"),
          t("col.health"),
          t("col.sync"),
          t("col.status"),
          t("col.access"),
          t("col.reconcile"),
          t("col.policy"),
        ],
        rows.map(({ hs, proof, policy }) => [
          h(
            "div",
            {},
            h("strong", {}, hs.host_name),
            hs.host_reachable === "no" ? h("div", {}, badge("unreachable")) : null,
          ),
          axisCell("health-cell", hs.health.state, hs.health.code, hs.health.reason),
          axisCell("sync-cell", hs.sync.state, hs.sync.code, hs.sync.reason),
          statusCell(hs),
          accessCell(provider.provider_id, hs, proof),
          reconcileCell(provider.provider_id, hs),
          policyCell(provider.provider_id, hs, policy),
        ]),
      ),
      ...rows.map(({ hs, batches }) => batchList(hs.host_name, batches)),
    ),
  );
}

function axisCell(cls: string, state: string, code: string, reason: string): HTMLElement {
  const said = sentence(code);
  return h(
    "div",
    { class: cls, "data-code": code },
    badge(state),
    said ? h("div", { class: "small said" }, said) : null,
    h("div", { class: "small reason" }, reason),
  );
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
function policyCell(providerId: string, hs: ProviderHostStatus, p: PolicyView): HTMLElement {
  const paused = p.accounts.filter((a) => a.latched).length;
  const last = p.events[0];
  return h(
    "div",
    { class: "policy-cell" },
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
            b.kind === "model_migration" ? t("batch.migration") : b.mode,
            b.changes === null ? b.keys : `${b.changes} ${t("batch.mappings")}`,
            when(b.created_at),
          ]),
        ),
  );
}
