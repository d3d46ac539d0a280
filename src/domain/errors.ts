import type { Hint } from "./hints.js";

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

/**
 * Every stable machine code relay reports (CLI `--json`, API error bodies, recorded events). A new
 * failure gets its code here first; spellings never change (operators and scripts match on them).
 * docs/errors.md lists them all (tests/unit/error-codes.test.ts keeps the two in step).
 */
export const ERROR_CODES = [
  // request
  "INVALID_REQUEST",
  "INVALID_JSON",
  "INVALID_QUERY",
  "INVALID_MULTIPART",
  "INVALID_TEXT",
  "EMPTY_BODY",
  "BODY_TOO_LARGE",
  "UNSUPPORTED_CONTENT_TYPE",
  "BAD_REQUEST",
  "ROUTE_NOT_FOUND",
  "UNAUTHORIZED",
  "USAGE",
  "CONFIRMATION_REQUIRED",
  "CANCELLED",
  "CONFIG_INVALID",
  "SHUTTING_DOWN",
  "INTERNAL",
  // secrets
  "SECRET_EMPTY",
  "SECRET_ENV_INVALID",
  "SECRET_ENV_UNSET",
  "SECRET_MULTILINE",
  "SECRET_SOURCE_REQUIRED",
  "SECRET_UNREADABLE",
  "SECRET_FILE_TOO_LARGE",
  "SECRET_FILE_UNREADABLE",
  "SECRET_IN_ARGUMENT",
  "SECRET_ARGUMENT_REFUSED",
  "INVALID_MASTER_KEY",
  "MASTER_KEY_MISMATCH",
  // store
  "STORE_BUSY",
  "LEASE_LOST",
  "SAME_STORE_KIND",
  "SOURCE_NOT_SQLITE",
  "TARGET_NOT_EMPTY",
  // hosts
  "HOST_EXISTS",
  "HOST_IN_USE",
  "HOST_NOT_FOUND",
  "HOST_REQUIRED",
  "INVALID_HOST_NAME",
  "INVALID_BASE_URL",
  "INSECURE_BASE_URL",
  "BASE_URL_NOT_ALLOWED",
  "LINK_LOCAL_HOST",
  "ADMIN_KEY_EMPTY",
  "ADMIN_KEY_INVALID",
  "NO_SNAPSHOT",
  "INVALID_PROBE_EMAIL",
  "PROBE_USER_CHANGED",
  "PROBE_USER_IS_ADMIN",
  "PROBE_USER_NOT_RELAYS",
  "PROBE_USER_REQUIRED",
  // host
  "HOST_UNREACHABLE",
  "HOST_UNAVAILABLE",
  "HOST_AUTH_FAILED",
  "HOST_RATE_LIMITED",
  "HOST_REDIRECT_REFUSED",
  "HOST_BAD_RESPONSE",
  "HOST_UNSUPPORTED",
  "HOST_ERROR",
  "NOT_SUB2API",
  // packs
  "PACK_NOT_FOUND",
  "PACK_INVALID",
  "PACK_IN_USE",
  "PACK_DOWNGRADE",
  "PACK_HOST_INCOMPATIBLE",
  "PACK_VERSION_CHANGED",
  "PACK_PATH_INSTALL_DISABLED",
  "PACK_PATH_INVALID",
  "PACK_PATH_NOT_ALLOWED",
  "PACK_PATH_NOT_FOUND",
  "PACK_TOO_LARGE",
  "ARCHIVE_TOO_LARGE",
  "ZIP_RATIO_EXCEEDED",
  "MISSING_FILE",
  "ENTRY_NOT_REGULAR",
  "ENTRY_TOO_LARGE",
  "SYMLINK_NOT_ALLOWED",
  "TOO_MANY_ENTRIES",
  "ZIP_ENCRYPTED",
  "ZIP_INVALID",
  "ZIP_PATH_ABSOLUTE",
  "ZIP_PATH_INVALID",
  "ZIP_PATH_TRAVERSAL",
  // providers
  "PROVIDER_NOT_FOUND",
  "PROVIDER_BUSY",
  "PROVIDER_IN_USE",
  "PROVIDER_NOT_IMPORTED",
  "PROVIDER_NOT_ON_HOST",
  "PROVIDER_UNSUPPORTED_ON_HOST",
  "AMBIGUOUS_TARGET",
  "INVALID_TARGET",
  "TARGET_REQUIRED",
  // import
  "NO_KEYS",
  "TOO_MANY_KEYS",
  "KEYS_NOT_TEXT",
  "KEY_LINE_TOO_LONG",
  "KEY_PATTERN_UNSAFE",
  "KEYS_FILE_TOO_LARGE",
  "KEYS_FILE_UNREADABLE",
  "ACCOUNTS_INVALID",
  "MAX_PARALLEL_INVALID",
  "IMPORT_BLOCKED",
  "PLAN_EDITED",
  "PLAN_FILE_INVALID",
  "PLAN_FILE_UNREADABLE",
  "PLAN_MISMATCH",
  "PLAN_STALE",
  "BATCH_NOT_FOUND",
  "DEPENDENT_BATCHES",
  "ROLLBACK_INCOMPLETE",
  "NO_USABLE_KEY",
  "ROTATION_BLOCKED",
  "ROTATION_NOT_ROLLED_BACK",
  // access
  "ACCESS_MODE_MISMATCH",
  "INVALID_SUBSCRIBER",
  "NOT_A_SUBSCRIPTION_GROUP",
  "NO_ACCESS_RECORD",
  "NO_USERS",
  "USER_NOT_FOUND",
  // reconcile
  "AS_OF_INVALID",
  "ENFORCE_INVALID",
  "NO_STATE",
  "POLICY_THRESHOLD_INVALID",
  "RETEST_INVALID",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && KNOWN_CODES.has(value);
}

export interface AppErrorOptions {
  details?: unknown;
  /** What the operator should do next: one sentence for both shells, or both forms (`hint` in domain/hints.ts). */
  hint?: string | Hint;
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  /** Stable machine code, e.g. `HOST_AUTH_FAILED`. */
  readonly code: ErrorCode;
  readonly details: unknown;
  /** The hint in the CLI's words (a command). */
  readonly hint: string | undefined;
  /** The same hint in the API's words (a route where the CLI names a command). */
  readonly apiHint: string | undefined;

  constructor(kind: ErrorKind, code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    this.details = options.details;
    const hint = options.hint;
    this.hint = typeof hint === "string" ? hint : hint?.cli;
    this.apiHint = typeof hint === "string" ? hint : hint?.api;
  }
}

export const invalidInput = (code: ErrorCode, message: string, options?: AppErrorOptions) =>
  new AppError("invalid_input", code, message, options);
export const notFound = (code: ErrorCode, message: string, options?: AppErrorOptions) =>
  new AppError("not_found", code, message, options);
export const conflict = (code: ErrorCode, message: string, options?: AppErrorOptions) =>
  new AppError("conflict", code, message, options);

/** An error's hint in both forms, to carry it over into an error that refines it. */
export function hintOf(err: AppError): Hint | undefined {
  return err.hint === undefined ? undefined : { cli: err.hint, api: err.apiHint ?? err.hint };
}

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
