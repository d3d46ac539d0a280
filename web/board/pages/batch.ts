import { ApiError, get, seg } from "../api";
import { type Child, h, table } from "../dom";
import { action, badge, section, when } from "../format";
import { t, word } from "../i18n";
import { liveBar } from "../live";
import type { Batch, Host, KeyResult, ProviderHostStatus, ProviderStatus } from "../types";
import { sentence } from "../words";

interface Now {
  batch: Batch;
  host: Host | null;
  /** The provider on the batch's host now (null when relay has no record of it there any more). */
  state: ProviderHostStatus | null;
}

async function load(batchId: string): Promise<Now> {
  const batch = await get<Batch>(`/api/import-batches/${seg(batchId)}`);
  const [host, status] = await Promise.all([
    get<Host>(`/api/hosts/${seg(batch.host_id)}`).catch(() => null),
    get<ProviderStatus>(
      `/api/providers/${seg(batch.provider_id)}/status?host_id=${encodeURIComponent(batch.host_id)}`,
    ).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
  ]);
  return { batch, host, state: status?.hosts[0] ?? null };
}

/**
 * One batch: its host, the provider's health and sync there now, every key (masked) with its
 * status, account and error; resources with what the newest reconcile found of each; rollback
 * state. Refreshed in place (live.ts).
 */
export async function batchPage(batchId: string): Promise<HTMLElement> {
  const box = h("div", { id: "batch" });
  const live = await liveBar(async () => {
    box.replaceChildren(h("div", {}, ...batchBody(await load(batchId))));
  });
  return section(`${t("batch.title")} ${batchId}`, live, box);
}

function nowCell(state: ProviderHostStatus | null): Child {
  if (!state) return "—";
  const axis = (cls: string, a: { state: string; code: string; reason: string }) =>
    h(
      "div",
      { class: cls, "data-code": a.code },
      badge(a.state),
      " ",
      sentence(a.code) ?? "",
      h("div", { class: "small muted" }, a.reason),
    );
  return h("div", {}, axis("health-cell", state.health), axis("sync-cell", state.sync));
}

/** What the newest reconcile found of one resource (missing, changed, failing), or that it matched. */
function resourceNow(state: ProviderHostStatus | null, r: Batch["resources"][number]): Child {
  const run = state?.last_reconcile;
  if (!run || r.state !== "live") return "—";
  const kinds = [
    ...new Set(
      run.findings
        .filter((f) => f.resource_type === r.type && f.host_resource_id === r.host_resource_id && !f.healed)
        .map((f) => f.kind),
    ),
  ];
  return kinds.length === 0 ? badge("ok") : h("span", {}, ...kinds.map((k) => badge(k)));
}

function batchBody({ batch: b, host, state }: Now): (Child | Child[])[] {
  const s = b.summary as Record<string, number | undefined>;
  return [
    h(
      "dl",
      { class: "facts" },
      fact(
        t("batch.host"),
        h("strong", {}, host?.name ?? b.host_id),
        ...(host?.reachable === "no" ? [" ", badge("unreachable")] : []),
      ),
      fact(t("batch.now"), nowCell(state)),
      fact(t("col.provider"), h("code", {}, b.provider_id), ` (${b.pack_version})`),
      fact(t("col.status"), badge(b.status), " ", b.status_reason),
      fact(t("col.mode"), b.kind === "model_migration" ? t("batch.migration") : b.mode),
      fact(t("col.created"), when(b.created_at)),
      fact(t("batch.finished"), when(b.finished_at)),
      fact(t("batch.duration"), b.duration_ms === null ? "—" : `${(b.duration_ms / 1000).toFixed(1)} s`),
      fact(
        t("batch.summary"),
        ["working", "failed", "reused", "skipped"]
          .filter((k) => typeof s[k] === "number")
          .map((k) => `${k} ${s[k]}`)
          .join(" · "),
      ),
      fact(t("batch.rollback"), rollbackState(b)),
    ),
    h("h3", {}, `${t("batch.keys")} (${b.keys.length})`),
    table(
      [t("col.key"), t("col.status"), t("col.class"), t("col.account"), t("col.error")],
      b.keys
        .map((k) => [k, k.result as KeyResult] as const)
        .map(([k, result]) => [
          h("code", { class: "key" }, k.key),
          badge(k.status),
          keyClass(result.triage),
          result.account_id === undefined ? "—" : `#${result.account_id}`,
          k.error_code ? h("div", {}, h("code", {}, k.error_code), " ", k.error ?? "") : "—",
        ]),
      { id: "batch-keys" },
    ),
    h("h3", {}, t("batch.resources")),
    table(
      [t("col.type"), t("col.name"), t("col.state"), t("batch.liveState"), t("col.origin")],
      b.resources.map((r) => [
        r.type,
        h(
          "div",
          {},
          r.name,
          r.host_resource_id === null ? "" : h("span", { class: "muted" }, ` #${r.host_resource_id}`),
        ),
        badge(r.state),
        resourceNow(state, r),
        r.origin,
      ]),
      { id: "batch-resources" },
    ),
    b.probes.length
      ? [
          h("h3", {}, t("batch.probes")),
          table(
            [t("col.type"), t("col.status"), t("col.model"), t("col.latency"), t("col.at")],
            b.probes.map((p) => [
              p.kind,
              badge(p.success ? "ok" : "failed"),
              p.model ?? "—",
              p.latency_ms === null ? "—" : `${p.latency_ms} ms`,
              when(p.at),
            ]),
          ),
        ]
      : null,
    h("h3", {}, t("batch.events")),
    table(
      [t("col.at"), t("col.type"), t("col.event")],
      b.events.map((e) => [when(e.at), e.kind, e.message]),
    ),
  ];
}

function fact(label: string, ...value: Child[]): HTMLElement[] {
  return [h("dt", {}, label), h("dd", {}, ...value)];
}

function rollbackState(b: Batch): HTMLElement {
  const dry = ["batch", "rollback", b.batch_id, "--dry-run"];
  if (b.status === "rolled_back") return h("span", {}, badge("rolled_back"), " ", t("batch.rollback.done"));
  if (b.status === "rollback_running")
    return h(
      "div",
      {},
      badge("rollback_running"),
      " ",
      t("batch.rollback.running"),
      action(t("action.rollback"), dry, ["batch", "rollback", b.batch_id]),
    );
  return h(
    "div",
    {},
    h("span", { class: "muted" }, t("batch.rollback.none")),
    action(t("action.rollback"), dry, ["batch", "rollback", b.batch_id]),
  );
}

/** A key's class, with what to do about it underneath (the pre-check's or the test's verdict). */
function keyClass(triage: { class: string; next_step: string } | undefined) {
  if (!triage) return "—";
  return h(
    "div",
    { class: "key-class", "data-class": triage.class },
    h("strong", {}, word(triage.class)),
    triage.class === "ready" ? null : h("div", { class: "muted small" }, triage.next_step),
  );
}
