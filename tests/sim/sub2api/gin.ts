import type { Context } from "hono";

/**
 * Response helpers shaped like sub2api's `response` package and its middleware (contract §2):
 * handler envelopes carry a numeric `code`, middleware errors a string `code`.
 */
export function success(c: Context, data?: unknown, status: 200 | 201 = 200) {
  return c.json(
    data === undefined ? { code: 0, message: "success" } : { code: 0, message: "success", data },
    status,
  );
}

export function fail(
  c: Context,
  status: number,
  message: string,
  reason?: string,
  metadata?: Record<string, string>,
) {
  const body: Record<string, unknown> = { code: status, message };
  if (reason) body.reason = reason;
  if (metadata) body.metadata = metadata;
  return c.json(body, status as 400);
}

export function badRequest(c: Context, detail: string) {
  return fail(c, 400, `Invalid request: ${detail}`);
}

export function middlewareError(
  c: Context,
  status: number,
  code: string,
  message: string,
  extra?: Record<string, unknown>,
) {
  return c.json({ code, message, ...extra }, status as 400);
}

/** Gin's default answer for an unknown route: plain text, not JSON. */
export function ginNotFound(c: Context) {
  return c.text("404 page not found", 404);
}

/** go-playground/validator's message format for one or more failing fields. */
export function validationMessage(struct: string, failures: { field: string; tag: string }[]): string {
  return failures
    .map(
      (f) =>
        `Key: '${struct}.${f.field}' Error:Field validation for '${f.field}' failed on the '${f.tag}' tag`,
    )
    .join("\n");
}

/** Reads a JSON body the way Gin's ShouldBindJSON does: an empty or invalid body is a 400. */
export async function readJson(c: Context): Promise<Record<string, unknown> | string> {
  const text = await c.req.text();
  if (text.trim() === "") return "EOF";
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return "json: cannot unmarshal into Go value of type struct";
    }
    return value as Record<string, unknown>;
  } catch (err) {
    return (err as Error).message;
  }
}

export interface PageParams {
  page: number;
  pageSize: number;
}

/** sub2api's pagination parsing: bad or too-large page_size silently falls back to 20 (§2.4). */
export function pageParams(c: Context, maxPageSize: number): PageParams {
  const parse = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : 0);
  let page = parse(c.req.query("page"));
  if (page <= 0) page = 1;
  let pageSize = parse(c.req.query("page_size") ?? c.req.query("limit"));
  if (pageSize <= 0 || pageSize > maxPageSize) pageSize = 20;
  return { page, pageSize };
}

export function paginate<T>(items: T[], p: PageParams) {
  const total = items.length;
  const pages = Math.max(1, Math.ceil(total / p.pageSize));
  const start = (p.page - 1) * p.pageSize;
  return { items: items.slice(start, start + p.pageSize), total, page: p.page, page_size: p.pageSize, pages };
}

/** Go `time.Time` JSON: RFC 3339 with fractional seconds and the server's offset (Asia/Shanghai). */
export function goTime(ms: number): string {
  const shifted = new Date(ms + 8 * 3600_000).toISOString().replace("Z", "");
  return `${shifted}+08:00`;
}

export function parseId(raw: string): number | undefined {
  return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
}
