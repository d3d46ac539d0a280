import { h } from "../dom";
import { t, word } from "../i18n";
import type { Host, ProviderHostStatus } from "../types";

export interface RowFilter {
  text: string;
  /** "" (all), a health or sync state, or "unreachable". */
  state: string;
}

const STATES = ["down", "degraded", "out_of_sync", "unreachable", "unknown", "healthy", "in_sync"] as const;

/**
 * The counts that answer "what is broken?": providers down, degraded and out of sync (one per
 * provider on a host), and hosts that did not answer their last probe. A count is a button that
 * sets the state filter.
 */
export function summary(
  rows: ProviderHostStatus[],
  hosts: Host[],
  pick: (state: string) => void,
): HTMLElement {
  const counts: [
    string,
    "summary.down" | "summary.degraded" | "summary.out_of_sync" | "summary.unreachable",
    number,
  ][] = [
    ["down", "summary.down", rows.filter((r) => r.health.state === "down").length],
    ["degraded", "summary.degraded", rows.filter((r) => r.health.state === "degraded").length],
    ["out_of_sync", "summary.out_of_sync", rows.filter((r) => r.sync.state === "out_of_sync").length],
    ["unreachable", "summary.unreachable", hosts.filter((x) => x.reachable === "no").length],
  ];
  const broken = counts.some(([, , n]) => n > 0);
  return h(
    "div",
    { class: "summary card", role: "region", "aria-label": t("summary.title") },
    h("h3", {}, t("summary.title")),
    h(
      "ul",
      { class: "counts" },
      ...counts.map(([state, label, n]) => {
        const b = h(
          "button",
          {
            type: "button",
            class: `count ${n > 0 ? (state === "down" || state === "unreachable" ? "bad" : "warn") : "zero"}`,
            "data-count": state,
          },
          h("strong", { class: "n" }, String(n)),
          " ",
          t(label),
        );
        b.addEventListener("click", () => pick(state));
        return h("li", {}, b);
      }),
    ),
    broken ? null : h("p", { class: "muted small", id: "all-good" }, t("summary.allGood")),
  );
}

/** Text and state filter; `onChange` redraws from the data already loaded (no request). */
export function filterBar(onChange: (f: RowFilter) => void): {
  bar: HTMLElement;
  setState: (state: string) => void;
} {
  const text = h("input", {
    type: "search",
    id: "filter",
    placeholder: t("filter.placeholder"),
    autocomplete: "off",
  }) as HTMLInputElement;
  const state = h(
    "select",
    { id: "state" },
    h("option", { value: "" }, t("filter.all")),
    ...STATES.map((s) => h("option", { value: s }, word(s))),
  ) as HTMLSelectElement;
  const changed = () => onChange({ text: text.value, state: state.value });
  text.addEventListener("input", changed);
  state.addEventListener("change", changed);
  const bar = h(
    "div",
    { class: "filters" },
    h("label", { for: "filter" }, t("filter.text")),
    text,
    h("label", { for: "state" }, t("filter.state")),
    state,
  );
  return {
    bar,
    setState: (s: string) => {
      state.value = state.value === s ? "" : s;
      changed();
    },
  };
}
