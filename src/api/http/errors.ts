import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, httpStatusOf, isAppError } from "../../domain/errors.js";
import type { Logger } from "../../util/logger.js";

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; hint?: string; request_id: string };
}

/** One error body shape for every failure, validation included. */
export function errorResponse(c: Context, err: unknown, logger: Logger): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  let appErr: AppError;
  if (isAppError(err)) {
    appErr = err;
  } else if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? "BODY_TOO_LARGE" : status === 401 ? "UNAUTHORIZED" : "BAD_REQUEST";
    const kind = status === 401 ? "unauthorized" : "invalid_input";
    appErr = new AppError(kind, code, err.message || "bad request");
    const body: ErrorBody = { error: { code: appErr.code, message: appErr.message, request_id: requestId } };
    return c.json(body, status);
  } else {
    logger.error({ err, request_id: requestId }, "unhandled error");
    appErr = new AppError("internal", "INTERNAL", "internal error; see the server log for this request id");
  }
  const body: ErrorBody = {
    error: {
      code: appErr.code,
      message: appErr.message,
      ...(appErr.details !== undefined ? { details: appErr.details } : {}),
      ...(appErr.hint ? { hint: appErr.hint } : {}),
      request_id: requestId,
    },
  };
  return c.json(body, httpStatusOf(appErr.kind) as 400);
}
