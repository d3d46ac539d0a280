/**
 * The closed set of failures every shell (HTTP, CLI, scheduler) knows how to present.
 * Services throw AppError; anything else is a bug and is reported as `internal`.
 */
export type ErrorKind =
  | "invalid_input"
  | "unauthorized"
  | "not_found"
  | "conflict"
  | "host_unreachable"
  | "host_rejected"
  | "host_unsupported"
  | "pack_invalid"
  /** This process takes no new work now (it is shutting down); another replica or a retry will. */
  | "unavailable"
  | "internal";

export interface AppErrorOptions {
  details?: unknown;
  /** What the operator should do next. */
  hint?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  /** Stable machine code, e.g. `HOST_AUTH_FAILED`. */
  readonly code: string;
  readonly details: unknown;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    this.details = options.details;
    this.hint = options.hint;
  }
}

export const invalidInput = (code: string, message: string, options?: AppErrorOptions) =>
  new AppError("invalid_input", code, message, options);
export const notFound = (code: string, message: string, options?: AppErrorOptions) =>
  new AppError("not_found", code, message, options);
export const conflict = (code: string, message: string, options?: AppErrorOptions) =>
  new AppError("conflict", code, message, options);

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

export function httpStatusOf(kind: ErrorKind): number {
  switch (kind) {
    case "invalid_input":
      return 400;
    case "pack_invalid":
      return 422;
    case "unauthorized":
      return 401;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "host_unreachable":
      return 502;
    case "host_rejected":
      return 502;
    case "host_unsupported":
      return 422;
    case "unavailable":
      return 503;
    case "internal":
      return 500;
  }
}

/** Exit codes of design §8: 0 ok, 1 error, 2 drift/pending, 3 partial, 4 locked or conflict. */
export const ExitCode = { ok: 0, error: 1, drift: 2, partial: 3, conflict: 4 } as const;

export function exitCodeOf(kind: ErrorKind): number {
  switch (kind) {
    case "conflict":
      return ExitCode.conflict;
    case "invalid_input":
    case "unauthorized":
    case "not_found":
    case "host_unreachable":
    case "host_rejected":
    case "host_unsupported":
    case "pack_invalid":
    case "unavailable":
    case "internal":
      return ExitCode.error;
  }
}
