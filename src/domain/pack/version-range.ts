/**
 * Host version ranges over dotted numeric versions. sub2api versions are not semver: they have
 * three or four parts (`0.1.126`, `0.1.105.36`), so parts are compared numerically one by one,
 * missing parts counting as 0. Syntax: comparators joined by spaces (all must hold), alternatives
 * joined by `||`. A comparator is `>=`, `>`, `<=`, `<`, `=` or nothing (=) before a version.
 *   ">=0.1.100 <0.3"    ">=0.1.105.30 || =0.1.99"
 */
export type Version = number[];

interface Comparator {
  op: ">=" | ">" | "<=" | "<" | "=";
  version: Version;
}

export type VersionRange = Comparator[][];

const VERSION_RE = /^v?(\d{1,9})(?:\.(\d{1,9})){0,3}$/;

export function parseVersion(text: string): Version | undefined {
  const t = text.trim();
  if (!VERSION_RE.test(t)) return undefined;
  return t.replace(/^v/, "").split(".").map(Number);
}

/** A host's reported version may carry a suffix (`0.1.126-beta`); its numeric prefix is used. */
export function parseHostVersion(text: string): Version | undefined {
  const m = /^v?(\d+(?:\.\d+){0,3})/.exec(text.trim());
  return m?.[1] ? parseVersion(m[1]) : undefined;
}

export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function parseRange(text: string): VersionRange | string {
  const alternatives = text.split("||").map((s) => s.trim());
  if (alternatives.some((a) => a === "")) return "empty alternative";
  const out: VersionRange = [];
  for (const alt of alternatives) {
    const comparators: Comparator[] = [];
    for (const token of alt.split(/\s+/)) {
      const m = /^(>=|<=|>|<|=)?(.+)$/.exec(token);
      const version = m?.[2] ? parseVersion(m[2]) : undefined;
      if (!m || !version) return `"${token}" is not a comparator such as >=0.1.100`;
      comparators.push({ op: (m[1] ?? "=") as Comparator["op"], version });
    }
    out.push(comparators);
  }
  return out;
}

export function satisfies(version: Version, range: VersionRange): boolean {
  return range.some((alt) =>
    alt.every(({ op, version: v }) => {
      const c = compareVersions(version, v);
      switch (op) {
        case ">=":
          return c >= 0;
        case ">":
          return c > 0;
        case "<=":
          return c <= 0;
        case "<":
          return c < 0;
        default:
          return c === 0;
      }
    }),
  );
}
