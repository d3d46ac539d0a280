import { type HostError, isHostError } from "../host/sub2api/index.js";
import { AppError } from "./errors.js";

/** Turns an adapter failure into the error an operator reads: what failed, why, and what to do. */
export function fromHostError(err: unknown, baseUrl: string): AppError | unknown {
  if (!isHostError(err)) return err;
  const e: HostError = err;
  const details = {
    operation: e.operation,
    status: e.status,
    host_code: e.code,
    reason: e.reason,
    attempts: e.attempts,
  };
  if (e.kind === "network" || e.kind === "timeout") {
    return new AppError("host_unreachable", "HOST_UNREACHABLE", `cannot reach ${baseUrl}: ${e.message}`, {
      details,
      hint: "Check the URL, DNS and firewall, and that sub2api is running; relay must reach its admin API over HTTP(S).",
      cause: e,
    });
  }
  if (e.status === 401 && (e.is("INVALID_ADMIN_KEY") || e.is("UNAUTHORIZED"))) {
    return new AppError(
      "host_rejected",
      "HOST_AUTH_FAILED",
      `${baseUrl} refused the admin API key (${e.machineCode})`,
      {
        details,
        hint: "Use the key from sub2api's admin settings (Settings → Admin API key, format admin-<64 hex>); regenerating it invalidates the old one.",
        cause: e,
      },
    );
  }
  if (e.status === 429) {
    return new AppError(
      "host_rejected",
      "HOST_RATE_LIMITED",
      `${baseUrl} is rate-limiting relay (${e.machineCode})`,
      {
        details,
        hint: "Wait and retry, or exempt admins from sub2api's panel rate limit.",
        cause: e,
      },
    );
  }
  if (e.is("REDIRECT_REFUSED")) {
    return new AppError("host_rejected", "HOST_REDIRECT_REFUSED", e.message, {
      details,
      hint: "Give the URL sub2api itself answers on, without redirects.",
      cause: e,
    });
  }
  if (e.routeMissing && e.operation === "system.version") {
    return new AppError(
      "host_unsupported",
      "NOT_SUB2API",
      `${baseUrl} has no /api/v1/admin/system/version: it is not a sub2api server`,
      {
        details,
        hint: "Point --base-url at the sub2api server's root URL (not at /api or a sub-path).",
        cause: e,
      },
    );
  }
  if (e.kind === "parse") {
    return new AppError(
      "host_rejected",
      "HOST_BAD_RESPONSE",
      `${baseUrl} answered in an unexpected form: ${e.message}`,
      {
        details,
        hint: "Check that the URL points at sub2api itself and not at a proxy or login page.",
        cause: e,
      },
    );
  }
  return new AppError("host_rejected", "HOST_ERROR", e.message, { details, cause: e });
}
