import { all } from "../api";
import { h, table } from "../dom";
import { action, badge, section, when } from "../format";
import { t, word } from "../i18n";
import { liveBar } from "../live";
import type { Host } from "../types";

/**
 * Hosts: version, profile, reachability or status and its reasons, capabilities, the providers it
 * can take, the last probe it answered. Refreshed in place (live.ts).
 */
export async function hostsPage(): Promise<HTMLElement> {
  let hosts: Host[] = [];
  const box = h("div", { id: "host-list" });
  const live = await liveBar(async () => {
    hosts = await all<Host>("/api/hosts");
    box.replaceChildren(hostTable(hosts));
  });
  if (hosts.length === 0)
    return section(
      t("nav.hosts"),
      h("p", {}, t("empty.hosts")),
      h("code", { class: "cmd" }, "relay host add --name NAME --base-url URL --admin-key-file FILE"),
    );
  return section(t("nav.hosts"), live, box);
}

function hostTable(hosts: Host[]): HTMLElement {
  return table(
    [
      t("col.name"),
      t("col.version"),
      t("col.status"),
      t("col.capabilities"),
      t("col.support"),
      t("col.probed"),
    ],
    hosts.map((host) => [
      h(
        "div",
        {},
        h("strong", { class: "host-name" }, host.name),
        h("div", { class: "muted small" }, host.base_url),
        action(t("action.probeHost"), ["host", "probe", host.name]),
      ),
      h("div", {}, host.version ?? "?", h("div", { class: "muted small" }, host.profile ?? "")),
      h(
        "div",
        { class: "host-state" },
        // A host that did not answer its newest probe is unreachable, whatever it was before.
        badge(host.reachable === "no" ? "unreachable" : host.status),
        host.last_error
          ? h(
              "div",
              { class: "small last-error" },
              `${t("col.lastError")}: `,
              h("code", {}, host.last_error.code),
              " ",
              host.last_error.message,
              " · ",
              when(host.last_error.at),
            )
          : null,
        ...[...host.status_reasons, ...host.warnings].map((r) =>
          h("div", { class: "small" }, h("code", {}, r.code), " ", r.message),
        ),
        ...host.blockers.map((b) => h("div", { class: "small" }, badge("blocked"), " ", b)),
      ),
      capabilities(host.capabilities),
      h(
        "ul",
        { class: "plain" },
        ...host.providers.map((p) =>
          h(
            "li",
            {},
            h("code", {}, p.provider_id),
            " ",
            badge(p.status),
            p.mode ? ` ${word(p.mode)}` : "",
            p.reason ? h("div", { class: "muted small" }, p.reason) : null,
          ),
        ),
      ),
      when(host.last_probe_ok_at),
    ]),
    { id: "hosts" },
  );
}

function capabilities(snapshot: object): HTMLElement {
  const caps = snapshot as Record<string, unknown>;
  const on = Object.entries(caps)
    .filter(([, v]) => v === true)
    .map(([k]) => k);
  const platforms = Array.isArray(caps.cn_platforms) ? (caps.cn_platforms as string[]) : [];
  return h(
    "div",
    { class: "caps" },
    on.length
      ? on.map((c) => h("span", { class: "chip" }, c))
      : h("span", { class: "muted" }, t("host.none")),
    platforms.length ? h("div", { class: "muted small" }, `CN: ${platforms.join(", ")}`) : null,
  );
}
