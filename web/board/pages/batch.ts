import { get, seg } from "../api";
import { type Child, h, table } from "../dom";
import { action, badge, section, when } from "../format";
import { t } from "../i18n";
import type { Batch } from "../types";

/** One batch: every key (masked) with its status, account and error; resources; rollback state. */
export async function batchPage(batchId: string): Promise<HTMLElement> {
  const b = await get<Batch>(`/api/import-batches/${seg(batchId)}`);
  const s = b.summary as Record<string, number | undefined>;
  return section(
    `${t("batch.title")} ${b.batch_id}`,
    h(
      "dl",
      { class: "facts" },
      fact(t("col.provider"), h("code", {}, b.provider_id), ` (${b.pack_version})`),
      fact(t("col.status"), badge(b.status), " ", b.status_reason),
      fact(t("col.mode"), b.mode),
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
      [t("col.key"), t("col.status"), t("col.account"), t("col.error")],
      b.keys.map((k) => [
        h("code", { class: "key" }, k.key),
        badge(k.status),
        k.result.account_id === undefined ? "—" : `#${k.result.account_id}`,
        k.error_code ? h("div", {}, h("code", {}, k.error_code), " ", k.error ?? "") : "—",
      ]),
      { id: "batch-keys" },
    ),
    h("h3", {}, t("batch.resources")),
    table(
      [t("col.type"), t("col.name"), t("col.state"), t("col.origin")],
      b.resources.map((r) => [
        r.type,
        h(
          "div",
          {},
          r.name,
          r.host_resource_id === null ? "" : h("span", { class: "muted" }, ` #${r.host_resource_id}`),
        ),
        badge(r.state),
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
  );
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
