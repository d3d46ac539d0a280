import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Context } from "hono";
import { AppError, invalidInput } from "../../domain/errors.js";
import type { SubscriptionTarget } from "../../domain/plan.js";
import type { UserTargets } from "./schemas/requests.js";

export const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });

/**
 * A request validator compiled on first use: compiling every route's schema when the app is built
 * would sit on `relay serve`'s start-up path. Every object in a request schema must be closed
 * (`additionalProperties: false`): a field relay does not know is refused, never ignored.
 */
export function validator<T>(schema: object): () => ValidateFunction<T> {
  let compiled: ValidateFunction<T> | undefined;
  return () => {
    if (!compiled) {
      assertClosed(schema, "");
      compiled = ajv.compile<T>(schema);
    }
    return compiled;
  };
}

function assertClosed(schema: unknown, at: string): void {
  if (typeof schema !== "object" || schema === null) return;
  const s = schema as Record<string, unknown>;
  if (s.type === "object" && s.additionalProperties !== false)
    throw new Error(`request schema object at ${at || "/"} must set additionalProperties: false`);
  for (const [k, v] of Object.entries(s))
    if (typeof v === "object" && v !== null) assertClosed(v, `${at}/${k}`);
}

/**
 * Reads and validates a JSON body; every problem is reported at once with its JSON pointer.
 * With `optional`, no body at all reads as `{}` (routes whose every field is optional).
 */
export async function jsonBody<T>(
  c: Context,
  compiled: () => ValidateFunction<T>,
  options: { optional?: boolean } = {},
): Promise<T> {
  const validate = compiled();
  const text = await c.req.text();
  if (options.optional && text === "") return check({}, validate);
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw invalidInput(
      "UNSUPPORTED_CONTENT_TYPE",
      `expected Content-Type application/json, got "${type || "none"}"`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw invalidInput("INVALID_JSON", `request body is not valid JSON: ${(err as Error).message}`);
  }
  return check(body, validate);
}

function check<T>(body: unknown, validate: ValidateFunction<T>): T {
  if (!validate(body)) {
    throw invalidInput("INVALID_REQUEST", "request body does not match the schema", {
      details: describeErrors(validate.errors ?? []),
    });
  }
  return body;
}

export function describeErrors(errors: ErrorObject[]) {
  return errors.map((e) => ({
    pointer: e.instancePath || "/",
    message:
      e.keyword === "additionalProperties"
        ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : (e.message ?? "invalid"),
  }));
}

/** Users from a request body as the verbs take them. */
export function toTargets(users: UserTargets | undefined): SubscriptionTarget[] {
  return (users ?? []).map((u, i) => {
    const userId = Number(u.user_id);
    if (!Number.isSafeInteger(userId))
      throw invalidInput(
        "INVALID_SUBSCRIBER",
        `user id at /${i}/user_id is larger than ${Number.MAX_SAFE_INTEGER}`,
      );
    const days = u.validity_days ?? u.duration_days;
    return { userId, ...(days ? { days } : {}) };
  });
}

/**
 * A boolean query parameter: `true`/`1` or `false`/`0` (absent = `fallback`); anything else is
 * refused rather than read as false.
 */
export function boolQuery(c: Context, name: string, fallback = false): boolean {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new AppError("invalid_input", "INVALID_QUERY", `query parameter ${name} must be true, false, 1 or 0`);
}

const MAX_PAGE = 1000;

/**
 * One page of a list endpoint: `?limit=N` (default and maximum 1000) and `?cursor=` as the
 * previous page's `next_cursor` gave it (null on the last page). The cursor is opaque to callers.
 */
export function page<T>(c: Context, all: T[]): { items: T[]; next_cursor: string | null } {
  const rawLimit = c.req.query("limit");
  const limit = rawLimit === undefined || rawLimit === "" ? MAX_PAGE : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new AppError("invalid_input", "INVALID_QUERY", `limit must be an integer from 1 to ${MAX_PAGE}`);
  const rawCursor = c.req.query("cursor");
  let offset = 0;
  if (rawCursor) {
    const m = /^o:(\d{1,9})$/.exec(Buffer.from(rawCursor, "base64url").toString("utf8"));
    if (!m) throw new AppError("invalid_input", "INVALID_QUERY", "cursor is not one this API gave");
    offset = Number(m[1]);
  }
  const items = all.slice(offset, offset + limit);
  const next = offset + limit < all.length ? Buffer.from(`o:${offset + limit}`).toString("base64url") : null;
  return { items, next_cursor: next };
}
