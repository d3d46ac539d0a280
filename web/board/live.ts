import { h } from "./dom";
import { absolute } from "./format";
import { t } from "./i18n";

/** Seconds between refreshes: 15, or `?every=N` in the address (at least 2), e.g. `#/providers?every=5`. */
export function refreshSeconds(hash = location.hash): number {
  const m = /[?&]every=(\d{1,4})\b/.exec(hash);
  return m ? Math.max(2, Number(m[1])) : 15;
}

/**
 * A page that keeps itself current without a reload: `update` fetches and redraws its part of the
 * page every few seconds while the page is shown and not paused. The bar says when the data was
 * last read and has the pause button. A failed refresh keeps what is shown and says so.
 */
export async function liveBar(update: () => Promise<void>): Promise<HTMLElement> {
  await update();
  const seconds = refreshSeconds();
  const stamp = h("time", { id: "updated" });
  const note = h("span", { class: "muted small", id: "live-note" });
  const pause = h("button", { type: "button", class: "ghost", id: "pause", "aria-pressed": "false" });
  const bar = h(
    "div",
    { class: "live-bar", role: "status" },
    h("span", {}, `${t("live.updated")} `, stamp),
    note,
    pause,
  );
  let paused = false;
  let busy = false;
  const show = (failed?: string) => {
    const now = new Date();
    if (!failed) {
      stamp.setAttribute("datetime", now.toISOString());
      stamp.textContent = absolute(now.toISOString());
    }
    note.textContent = failed
      ? `${t("live.failed")}: ${failed}`
      : paused
        ? t("live.paused")
        : `${t("live.every")} ${seconds} s`;
    pause.textContent = paused ? t("live.resume") : t("live.pause");
    pause.setAttribute("aria-pressed", String(paused));
  };
  pause.addEventListener("click", () => {
    paused = !paused;
    show();
  });
  show();
  const timer = setInterval(() => {
    if (!bar.isConnected) {
      clearInterval(timer); // the page was left: stop polling
      return;
    }
    if (paused || busy) return;
    busy = true;
    update()
      .then(
        () => show(),
        (err: unknown) => show(err instanceof Error ? err.message : String(err)),
      )
      .finally(() => {
        busy = false;
      });
  }, seconds * 1000);
  return bar;
}
