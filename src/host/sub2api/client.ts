import pRetry from "p-retry";
import type { AdaptiveLimit } from "../../util/aimd.js";
import { printable } from "../../util/sanitize.js";
import { describeBody, sub2apiError } from "./error-body.js";
import { HostError } from "./errors.js";
import { exceedsJsonValues, isRecord, tryParseJson } from "./json.js";
import { nodeTransport, type Transport, TransportTimeout, TransportTooLarge } from "./transport.js";

/**
 * How a call may be retried:
 * - `read`: GET-like; retried on network errors, timeouts, 429 and 5xx.
 * - `idempotent-write`: a write carrying an Idempotency-Key the host honours; retried like a read.
 *   On a host without idempotency support it degrades to `write`.
 * - `write`: retried only when the host certainly did not run it: connection refused, or 429 from
 *   the rate limiter (which answers before any handler runs).
 */
export type RetryClass = "read" | "idempotent-write" | "write";

export type Auth = { type: "admin" } | { type: "none" } | { type: "bearer"; token: string };

export interface RequestSpec {
  operation: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  auth?: Auth;
  retry: RetryClass;
  /** Byte limit of the answer; default by the kind of call (see `answerLimit`). */
  maxBytes?: number;
  /** A list page: refused unparsed when it holds more JSON values than this (json.ts exceedsJsonValues). */
  maxValues?: number;
  idempotencyKey?: string;
  timeoutMs?: number;
  /**
   * The host's rate-limit window for this call, when known: a 429 is waited out for its
   * Retry-After up to this long (instead of the client's `maxRetryAfterMs`), and for the whole
   * window when it names no Retry-After (builds before 0.1.166 send none).
   */
  rateLimitWindowMs?: number;
}

export interface RawResponse {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
  json: unknown;
  attempts: number;
  latencyMs: number;
}

export interface CallObservation {
  operation: string;
  outcome: "ok" | "http_error" | "network" | "timeout" | "parse";
  status: number | undefined;
  durationMs: number;
  attempts: number;
}

export interface ClientOptions {
  baseUrl: string;
  adminKey: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** Longest Retry-After the client will wait; beyond it the call fails with a clear error. */
  maxRetryAfterMs?: number;
  baseBackoffMs?: number;
  /** Whether the host honours Idempotency-Key (from the capability probe). */
  idempotency?: boolean;
  transport?: Transport;
  sleep?: (ms: number) => Promise<void>;
  onCall?: (observation: CallObservation) => void;
  /** The host's adaptive concurrency limit, shared by every client of this host in the process. */
  gate?: AdaptiveLimit;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HostClient {
  readonly baseUrl: string;
  readonly #adminKey: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #gate: AdaptiveLimit | undefined;
  readonly #maxRetryAfterMs: number;
  readonly #baseBackoffMs: number;
  #idempotency: boolean;
  readonly #transport: Transport;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onCall: ((o: CallObservation) => void) | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#adminKey = options.adminKey;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#gate = options.gate;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#baseBackoffMs = options.baseBackoffMs ?? 250;
    this.#idempotency = options.idempotency ?? false;
    this.#transport = options.transport ?? nodeTransport();
    this.#sleep = options.sleep ?? defaultSleep;
    this.#onCall = options.onCall;
  }

  setIdempotencySupported(value: boolean): void {
    this.#idempotency = value;
  }

  /** A call whose success body is sub2api's envelope `{code: 0, data}`; returns `data`. */
  async envelope(spec: RequestSpec): Promise<unknown> {
    const res = await this.raw(spec);
    const body = res.json;
    if (!isRecord(body) || body.code !== 0) {
      const err = new HostError({
        kind: "parse",
        operation: spec.operation,
        status: res.status,
        message: `${spec.operation}: expected a sub2api envelope {code: 0, data}, got ${describeBody(res)}`,
        attempts: res.attempts,
      });
      this.#observe(spec.operation, "parse", res.status, res.latencyMs, res.attempts);
      throw err;
    }
    return body.data;
  }

  /**
   * Performs the request with timeouts and safe retries. Resolves for 2xx; rejects with HostError
   * for everything else (HTTP errors are parsed from either error shape). The attempts are
   * p-retry's (its loop, count and limit); which failure is retried and how long to wait first is
   * decided here (`#retryDelay`): p-retry's own backoff cannot honour a Retry-After, so it is set
   * to zero and the wait happens, through the injectable sleep, once p-retry has chosen to retry.
   */
  async raw(spec: RequestSpec): Promise<RawResponse> {
    const started = performance.now();
    let attempts = 0;
    try {
      const res = await pRetry(
        async (attempt) => {
          attempts = attempt;
          const res = await this.#once(spec, attempt);
          if (res.status >= 200 && res.status < 300) return res;
          throw httpError(spec.operation, res, attempt);
        },
        {
          retries: this.#maxRetries,
          minTimeout: 0,
          shouldRetry: async ({ error, attemptNumber }) => {
            const failure = asHostError(spec.operation, error, attemptNumber);
            const wait = this.#retryDelay(spec, failure, attemptNumber);
            if (wait === undefined) return false;
            await this.#sleep(wait);
            return true;
          },
        },
      );
      const latencyMs = Math.round(performance.now() - started);
      this.#observe(spec.operation, "ok", res.status, latencyMs, attempts);
      return { ...res, attempts, latencyMs };
    } catch (err) {
      const failure = asHostError(spec.operation, err, attempts);
      const outcome = failure.kind === "http" ? "http_error" : failure.kind;
      this.#observe(
        spec.operation,
        outcome,
        failure.status,
        Math.round(performance.now() - started),
        attempts,
      );
      throw failure;
    }
  }

  async #once(spec: RequestSpec, attempt: number): Promise<Omit<RawResponse, "attempts" | "latencyMs">> {
    const url = new URL(this.baseUrl + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
    const auth = spec.auth ?? { type: "admin" };
    if (auth.type === "admin") headers["x-api-key"] = this.#adminKey;
    if (auth.type === "bearer") headers.authorization = `Bearer ${auth.token}`;
    if (spec.idempotencyKey) headers["idempotency-key"] = spec.idempotencyKey;
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(spec.body);
    }
    const timeoutMs = spec.timeoutMs ?? this.#timeoutMs;
    try {
      const maxBytes = spec.maxBytes ?? answerLimit(spec);
      const call = () => this.#transport({ url, method: spec.method, headers, body, timeoutMs, maxBytes });
      // 429, 5xx and timeouts say the host has too much: the gate halves its limit (AIMD).
      const res = this.#gate
        ? await this.#gate.run(call, ({ value, error }) =>
            error !== undefined
              ? error instanceof TransportTimeout
              : value !== undefined && (value.status === 429 || value.status >= 500),
          )
        : await call();
      if (spec.maxValues !== undefined && exceedsJsonValues(res.text, spec.maxValues)) {
        throw new HostError({
          kind: "parse",
          operation: spec.operation,
          code: "RESPONSE_TOO_LARGE",
          message: `${spec.operation}: the host's page holds more than ${spec.maxValues} JSON values, more than a page of this size can; relay did not parse it`,
          attempts: attempt,
        });
      }
      return { status: res.status, headers: res.headers, text: res.text, json: tryParseJson(res.text) };
    } catch (err) {
      if (err instanceof HostError) throw err;
      if (err instanceof TransportTooLarge) {
        throw new HostError({
          kind: "parse",
          operation: spec.operation,
          code: "RESPONSE_TOO_LARGE",
          message: `${spec.operation}: the host's answer is larger than ${err.maxBytes} bytes; relay stopped reading it`,
          attempts: attempt,
          cause: err,
        });
      }
      if (err instanceof TransportTimeout) {
        throw new HostError({
          kind: "timeout",
          operation: spec.operation,
          message: `${spec.operation}: no complete answer from ${url.host} within ${timeoutMs} ms`,
          attempts: attempt,
          cause: err,
        });
      }
      throw networkError(spec.operation, err, attempt);
    }
  }

  /** How long to wait before the next attempt, or undefined: not retried (p-retry counts the attempts). */
  #retryDelay(spec: RequestSpec, failure: HostError, attempt: number): number | undefined {
    const retry = spec.retry === "idempotent-write" && !this.#idempotency ? "write" : spec.retry;
    const backoff = this.#baseBackoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
    if (failure.kind === "http" && failure.status === 429) {
      // The rate limiter and the idempotency coordinator both answer 429 before doing any work.
      const window = spec.rateLimitWindowMs;
      if (failure.retryAfterMs === undefined) return window ?? backoff;
      return failure.retryAfterMs <= (window ?? this.#maxRetryAfterMs) ? failure.retryAfterMs : undefined;
    }
    // sub2api's idempotency coordinator is still running the first request with this key, or
    // holds it in its retry backoff (idempotency.go@3c800aaa, conflictWithRetryAfter): the host is
    // not refusing, it asks to wait. Waited out like a 429, never reported as a failure.
    if (
      failure.kind === "http" &&
      failure.status === 409 &&
      (failure.is("IDEMPOTENCY_IN_PROGRESS") || failure.is("IDEMPOTENCY_RETRY_BACKOFF"))
    ) {
      const wait = failure.retryAfterMs ?? backoff;
      return wait <= this.#maxRetryAfterMs ? wait : undefined;
    }
    if (failure.kind === "network" && failure.reason === "ECONNREFUSED") return backoff;
    if (retry === "write") return undefined;
    if (failure.kind === "network" || failure.kind === "timeout") return backoff;
    // A 5xx from sub2api, or a gateway's 502-504 in front of it, may pass; a 500 page from
    // something that is not sub2api will not, and retrying it only delays the refusal.
    if (failure.kind === "http" && failure.status !== undefined && failure.status >= 500)
      return failure.code !== undefined || failure.status >= 502 ? backoff : undefined;
    return undefined;
  }

  #observe(
    operation: string,
    outcome: CallObservation["outcome"],
    status: number | undefined,
    ms: number,
    n: number,
  ) {
    this.#onCall?.({ operation, outcome, status, durationMs: ms, attempts: n });
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * How much of an answer relay reads, by the kind of call: version, settings and probes are tiny;
 * an account test streams a few events; a list page of up to 1,000 items is the largest.
 */
export function answerLimit(spec: Pick<RequestSpec, "operation" | "method">): number {
  if (/^(system\.|settings\.|probe\.|compliance)/.test(spec.operation)) return 256 * KiB;
  if (spec.operation === "accounts.test" || spec.operation === "gateway.chat_completions") return 2 * MiB;
  if (spec.method === "GET") return 16 * MiB;
  return 4 * MiB;
}

function httpError(
  operation: string,
  res: { status: number; headers: { get(name: string): string | null }; text: string; json: unknown },
  attempts: number,
) {
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  const known = sub2apiError(operation, res.json);
  if (known) {
    return new HostError({
      kind: "http",
      operation,
      status: res.status,
      code: known.code,
      reason: known.reason,
      metadata: known.metadata,
      message: `${operation}: host answered ${res.status} ${hostText(known.message)}`.trim(),
      retryAfterMs: retryAfterMs ?? retryAfterFromMetadata(known.metadata),
      attempts,
    });
  }
  const location = res.headers.get("location");
  if (res.status >= 300 && res.status < 400 && location) {
    // Redirects are never followed: the admin key would travel to wherever they point.
    return new HostError({
      kind: "http",
      operation,
      status: res.status,
      code: "REDIRECT_REFUSED",
      message: `${operation}: the host redirects to ${location.replace(/[^\x21-\x7e]/g, "").slice(0, 200)}; relay does not follow redirects — use the final URL as the base URL`,
      attempts,
    });
  }
  return new HostError({
    kind: "http",
    operation,
    status: res.status,
    message: `${operation}: host answered ${res.status} with ${describeBody(res)}`,
    retryAfterMs,
    routeMissing: res.status === 404 || res.status === 405,
    attempts,
  });
}

const asHostError = (operation: string, err: unknown, attempts: number): HostError =>
  err instanceof HostError ? err : networkError(operation, err, attempts);

function networkError(operation: string, err: unknown, attempts: number): HostError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (err as { code?: string })?.code;
  const detail = cause?.message ?? (err as Error)?.message ?? String(err);
  return new HostError({
    kind: "network",
    operation,
    reason: code,
    message: `${operation}: cannot reach the host (${code ?? "network error"}: ${detail})`,
    attempts,
    cause: err,
  });
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function retryAfterFromMetadata(metadata: Record<string, unknown> | undefined): number | undefined {
  const v = metadata?.retry_after;
  return typeof v === "string" || typeof v === "number" ? parseRetryAfter(String(v)) : undefined;
}

/** A message from the host, as relay repeats it: printable and at most 300 characters. */
function hostText(text: string): string {
  return printable(text, { max: 300 });
}
