import { type Child, h } from "./dom";
import { lang, t, word } from "./i18n";

const TONES: Record<string, "good" | "warn" | "bad"> = {
  supported: "good",
  active: "good",
  fully_ready: "good",
  subscription_ready: "good",
  self_service_ready: "good",
  succeeded: "good",
  ok: "good",
  created: "good",
  tested: "good",
  reused: "good",
  live: "good",
  native: "good",
  healthy: "good",
  in_sync: "good",
  yes: "good",
  out_of_sync: "warn",
  down: "bad",
  unreachable: "bad",
  no: "bad",
  degraded: "warn",
  drifted: "warn",
  drift: "warn",
  partially_succeeded: "warn",
  rollback_running: "warn",
  fallback: "warn",
  missing: "warn",
  changed: "warn",
  unexpected: "warn",
  failed: "bad",
  broken: "bad",
  unsupported: "bad",
  error: "bad",
  account_failing: "bad",
  access_broken: "bad",
  incompatible: "bad",
};

const MARK = { good: "●", warn: "▲", bad: "✖", neutral: "○" } as const;

/** Status by colour and by text (and a shape, for those who see neither colour well). */
export function badge(status: string | null | undefined): HTMLElement {
  const s = status ?? "unknown";
  const tone = TONES[s] ?? "neutral";
  return h("span", { class: `badge ${tone}`, "data-status": s }, `${MARK[tone]} ${word(s)}`);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function relative(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const fmt = new Intl.RelativeTimeFormat(lang() === "zh" ? "zh-CN" : "en", { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return fmt.format(Math.round(seconds / size), unit);
  }
  return iso;
}

export function absolute(iso: string): string {
  return new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "medium",
  }).format(new Date(iso));
}

/** A moment, relative and absolute: "5 minutes ago · 1 Dec 2026, 05:12:03". */
export function when(iso: string | null | undefined): Child {
  if (!iso || Number.isNaN(Date.parse(iso))) return h("span", { class: "muted" }, t("time.never"));
  return h(
    "time",
    { datetime: iso, title: iso },
    h("span", { class: "rel" }, relative(iso)),
    h("span", { class: "abs" }, ` · ${absolute(iso)}`),
  );
}

/** A shell word, quoted when it needs to be (host names may contain anything). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9._:/@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** An action the board does not take: its label opens the CLI command that takes it. */
export function action(label: string, ...commands: string[][]): HTMLElement {
  return h(
    "details",
    { class: "action" },
    h("summary", {}, label),
    h("p", { class: "muted" }, t("action.note")),
    ...commands.map((argv) => h("code", { class: "cmd" }, ["relay", ...argv.map(shellWord)].join(" "))),
  );
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}
