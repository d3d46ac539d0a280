/**
 * Elements built from text only: every string from the API (host names, reasons, error messages a
 * host sent) becomes a text node, never markup. Nothing in the board uses innerHTML, and the CSP
 * requires Trusted Types, so an accidental use fails loudly instead of running a host's script.
 */
export type Child = Node | string | number | null | undefined | false;

export function h(
  tag: string,
  attrs: Record<string, string | undefined> = {},
  ...children: (Child | Child[])[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) el.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "number" ? String(child) : child);
  }
  return el;
}

/** An in-page link: only `#/…` routes the board itself builds. */
export function link(route: string, ...children: Child[]): HTMLElement {
  return h("a", { href: `#${route}` }, ...children);
}

/**
 * A table that becomes a list of cards on a phone: each cell carries its column's label, which
 * the narrow layout shows before the value.
 */
export function table(columns: string[], rows: Child[][], attrs: Record<string, string> = {}): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "rows", ...attrs },
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        ...rows.map((cells) =>
          h("tr", {}, ...cells.map((cell, i) => h("td", { "data-label": columns[i] ?? "" }, cell))),
        ),
      ),
    ),
  );
}
