import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, type ErrorCode, httpStatusOf, isAppError } from "../../domain/errors.js";
import type { Logger } from "../../util/logger.js";
import { withoutUrlValues } from "./redact.js";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; hint?: string; request_id: string };
}

/** Every string in an error's details, passed through `f`. */
function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

/**
 * One error body shape for every failure, validation included. The body never repeats what the
 * URL carried (a path id or a query value may be a secret pasted into the wrong place).
 */
export function errorResponse(c: Context, err: unknown, logger: Logger): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  const scrub = withoutUrlValues(c);
  let appErr: AppError;
  if (isAppError(err)) {
    appErr = err;
  } else if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? "BODY_TOO_LARGE" : status === 401 ? "UNAUTHORIZED" : "BAD_REQUEST";
    const kind = status === 401 ? "unauthorized" : "invalid_input";
    appErr = new AppError(kind, code, err.message || "bad request");
    const body: ErrorBody = {
      error: { code: appErr.code, message: scrub(appErr.message), request_id: requestId },
    };
    return c.json(body, status);
  } else {
    logger.error({ err, request_id: requestId }, "unhandled error");
    appErr = new AppError("internal", "INTERNAL", "internal error; see the server log for this request id");
  }
  const body: ErrorBody = {
    error: {
      code: appErr.code,
      message: scrub(appErr.message),
      ...(appErr.details !== undefined ? { details: mapStrings(appErr.details, scrub) } : {}),
      ...(appErr.apiHint ? { hint: scrub(appErr.apiHint) } : {}),
      request_id: requestId,
    },
  };
  return c.json(body, httpStatusOf(appErr.kind) as 400);
}
