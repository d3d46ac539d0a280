/** Every failure of a host call, whatever its cause. Only the adapter constructs these. */
export type HostErrorKind = "http" | "parse" | "network" | "timeout";

export interface HostErrorInit {
  kind: HostErrorKind;
  operation: string;
  message: string;
  status?: number;
  /** sub2api's `code`: a number in handler envelopes, a string in middleware errors. */
  code?: string | number;
  reason?: string;
  metadata?: Record<string, unknown>;
  retryAfterMs?: number;
  /** A 404 whose body is not a sub2api JSON body: the route does not exist on this build. */
  routeMissing?: boolean;
  attempts?: number;
  cause?: unknown;
}

export class HostError extends Error {
  readonly kind: HostErrorKind;
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: string | number | undefined;
  readonly reason: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
  readonly retryAfterMs: number | undefined;
  readonly routeMissing: boolean;
  readonly attempts: number;

  constructor(init: HostErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "HostError";
    this.kind = init.kind;
    this.operation = init.operation;
    this.status = init.status;
    this.code = init.code;
    this.reason = init.reason;
    this.metadata = init.metadata;
    this.retryAfterMs = init.retryAfterMs;
    this.routeMissing = init.routeMissing ?? false;
    this.attempts = init.attempts ?? 1;
  }

  /** The machine-readable identity of the failure: string code, else reason, else HTTP status. */
  get machineCode(): string {
    if (typeof this.code === "string") return this.code;
    if (this.reason) return this.reason;
    return this.status === undefined ? this.kind.toUpperCase() : `HTTP_${this.status}`;
  }

  is(code: string): boolean {
    return this.code === code || this.reason === code;
  }
}

export function isHostError(err: unknown): err is HostError {
  return err instanceof HostError;
}
