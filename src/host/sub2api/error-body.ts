import { isRecord, tryParseJson } from "./json.js";

/** The fields of an error body in one of sub2api's shapes (contract §2.2, §2.3, §10). */
export interface KnownError {
  code: string | number | undefined;
  reason: string | undefined;
  metadata: Record<string, unknown> | undefined;
  message: string;
}

/** A machine code as sub2api writes one: `INVALID_ADMIN_KEY`, `mixed_channel_warning`. */
const CODE_RE = /^[A-Za-z][A-Za-z0-9_]{1,63}$/;
const only = (body: Record<string, unknown>, keys: string[]) =>
  Object.keys(body).every((k) => keys.includes(k));
const optString = (v: unknown) => v === undefined || typeof v === "string";

/**
 * An error body in one of sub2api's own shapes, and only those: the handler envelope
 * `{code: <int>, message, reason?, metadata?}`, the middleware's `{code: "<CODE>", message,
 * metadata?}`, the account handler's `{error: "<code>", message}` and, from the gateway only,
 * OpenAI's `{error: {type, message}}` and Anthropic's `{type: "error", error: {…}}`. Any other JSON
 * (an internal service's `{"message": "db_password=…"}`) is not quoted: the caller describes it.
 */
export function sub2apiError(operation: string, body: unknown): KnownError | undefined {
  if (!isRecord(body) || !optString(body.message)) return undefined;
  const metadata = isRecord(body.metadata) ? body.metadata : undefined;
  if (body.metadata !== undefined && !metadata) return undefined;
  const message = (body.message as string | undefined) ?? "";
  if (
    Number.isInteger(body.code) &&
    only(body, ["code", "message", "reason", "metadata", "data"]) &&
    optString(body.reason)
  ) {
    const reason = typeof body.reason === "string" && CODE_RE.test(body.reason) ? body.reason : undefined;
    return { code: body.code as number, reason, metadata, message };
  }
  if (typeof body.code === "string" && CODE_RE.test(body.code) && only(body, ["code", "message", "metadata"]))
    return { code: body.code, reason: undefined, metadata, message };
  if (
    typeof body.error === "string" &&
    /^[a-z][a-z0-9_]{1,63}$/.test(body.error) &&
    only(body, ["error", "message"])
  )
    return { code: body.error, reason: undefined, metadata: undefined, message };
  const inner = isRecord(body.error) ? body.error : undefined;
  if (
    operation.startsWith("gateway.") &&
    inner &&
    (only(body, ["error"]) || (body.type === "error" && only(body, ["type", "error"]))) &&
    only(inner, ["type", "message", "code", "param"]) &&
    typeof inner.message === "string" &&
    optString(inner.type)
  ) {
    const code = typeof inner.code === "string" ? inner.code : (inner.type as string | undefined);
    return { code, reason: undefined, metadata: undefined, message: inner.message };
  }
  return undefined;
}

/**
 * What an answer that is not sub2api's looks like, without quoting it: a page or a JSON error from
 * something else (a login page, an internal service) may hold secrets, and echoing it would make
 * relay an oracle.
 */
export function describeBody(res: { text: string; headers: { get(name: string): string | null } }): string {
  if (res.text === "") return "an empty body";
  const type = (res.headers.get("content-type") ?? "no content type").split(";")[0]?.trim().slice(0, 60);
  const shape = isRecord(tryParseJson(res.text)) ? "JSON that is not a sub2api error" : "a body";
  return `${shape} (${type}, ${res.text.length} bytes)`;
}
