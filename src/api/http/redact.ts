import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { BATCH_ID_RE, HOST_ID_RE, HOST_NAME_RE, looksLikeSecret, SLUG_RE } from "../../domain/ids.js";

/**
 * What a caller puts in a URL travels into access logs, proxies and error bodies; a key pasted
 * into the wrong field (`GET /api/hosts/sk-…`) must not. The access log keeps a path parameter only
 * when it has its route's id shape and does not look like a secret; error bodies never repeat
 * what the URL carried.
 */
const PARAM_SHAPES: Record<string, (v: string) => boolean> = {
  host_id: (v) => HOST_ID_RE.test(v) || (HOST_NAME_RE.test(v) && !looksLikeSecret(v)),
  pack_id: (v) => SLUG_RE.test(v) && !looksLikeSecret(v),
  provider_id: (v) => SLUG_RE.test(v) && !looksLikeSecret(v),
  batch_id: (v) => BATCH_ID_RE.test(v),
};
/** A literal segment of a route (`api`, `hosts`, `preview-import`). */
const ROUTE_WORD = /^[a-z][a-z-]{0,40}$/;
export const REDACTED = "[redacted]";

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The request path as the access log writes it. */
export function loggedPath(c: Context): string {
  const route = [...matchedRoutes(c)].reverse().find((r) => r.method !== "ALL");
  const template = route ? route.path.split("/") : [];
  return c.req.path
    .split("/")
    .map((segment, i) => {
      const t = template[i];
      if (t?.startsWith(":")) return PARAM_SHAPES[t.slice(1)]?.(decode(segment)) ? segment : REDACTED;
      if (segment === "" || segment === t || ROUTE_WORD.test(segment)) return segment;
      return REDACTED;
    })
    .join("/");
}

/** Each path parameter and query value of the request, with its name, longest first. */
function urlValues(c: Context): [string, string][] {
  const out: [string, string][] = [];
  try {
    for (const [name, v] of Object.entries(c.req.param() as Record<string, string>)) out.push([name, v]);
  } catch {
    // An error raised before routing (token, body limit) has no parameters.
  }
  for (const [name, vs] of Object.entries(c.req.queries())) for (const v of vs) out.push([name, v]);
  return out.filter(([, v]) => v !== "").sort((a, b) => b[1].length - a[1].length);
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Text for an error body with every value the URL carried replaced by its parameter's name
 * (`no host "{host_id}"`): as a whole token, or only where quoted when it is shorter than three
 * characters (a short value also occurs inside ordinary words).
 */
export function withoutUrlValues(c: Context): (text: string) => string {
  const rules = urlValues(c).map(([name, v]): [RegExp, string] =>
    v.length >= 3
      ? [new RegExp(`(?<![A-Za-z0-9._~-])${literal(v)}(?![A-Za-z0-9._~-])`, "g"), `{${name}}`]
      : [new RegExp(`"${literal(v)}"`, "g"), `"{${name}}"`],
  );
  return (text) => rules.reduce((t, [re, by]) => t.replace(re, by), text);
}
