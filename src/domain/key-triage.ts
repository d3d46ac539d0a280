import { printable } from "../util/sanitize.js";
import type { KeyClass, KeyTriageRule } from "./pack/schema.js";

/**
 * Key triage, decided purely: what the provider said about a key, as the host relayed it, against
 * the provider's `key_triage` rules from the pack. The I/O (asking the host, trying a sibling
 * region) is in provision/triage.ts.
 */

/** One key's class, said for people: what the provider answered and what to do. */
export interface KeyTriage {
  class: KeyClass;
  reason: string;
  next_step: string;
  /** For `wrong_region`: the provider of the region the key belongs to. */
  suggested_provider: string | null;
  upstream_status: number | null;
}

export interface TriageGroup {
  class: KeyClass;
  count: number;
  next_step: string;
  suggested_provider: string | null;
  keys: { key: string; line: number | null }[];
}

/** The provider's answer as the host passed it on. */
export interface UpstreamAnswer {
  /** The upstream's HTTP status; undefined when the host did not say. */
  status: number | undefined;
  /** The upstream's body, parsed when it was JSON; only the account test relays it. */
  body: unknown;
  /** Whether the host relayed the body at all (the model preview does not). */
  bodySeen: boolean;
  via: "precheck" | "account_test";
  /** The host's own words when it relayed no upstream status (a stream it could not read). */
  hostText?: string;
}

export interface Verdict {
  class: KeyClass;
  /** The status alone was not enough: a rule for it needs the body code, which was not relayed. */
  ambiguous: boolean;
}

/** Without rules in the pack: what relay assumed before packs declared them. */
export const DEFAULT_TRIAGE: KeyTriageRule[] = [
  { status: 401, class: "revoked" },
  { status: 403, class: "revoked" },
  { status: 429, class: "rate_limited" },
];

const MAX_BODY = 64 * 1024;

/**
 * The model preview's refusal: 502 "Upstream model list request failed with HTTP <n>"
 * (upstream_models.go:112-116, account_handler.go:2821-2832@67380eafd). The status only: sub2api
 * reads the upstream's body and drops it.
 */
export function answerFromPreview(status: number | undefined, message: string): UpstreamAnswer | undefined {
  if (status !== 502) return undefined;
  const m = /Upstream model list request failed with HTTP (\d{3})\b/.exec(message);
  if (!m) return undefined;
  return { status: Number(m[1]), body: undefined, bodySeen: false, via: "precheck" };
}

/**
 * The account test's error event. A non-200 upstream answer is "<API> returned <n>: <body>"
 * (account_test_service.go:450,2000-2009@67380eafd); anything else (an unreadable stream, a bad
 * base URL) carries no upstream status.
 */
export function answerFromTest(error: string): UpstreamAnswer {
  const m = /\breturned (\d{3}): ?([\s\S]*)$/.exec(error);
  if (!m)
    return { status: undefined, body: undefined, bodySeen: false, via: "account_test", hostText: error };
  const text = (m[2] ?? "").trim();
  let body: unknown;
  if (text.length <= MAX_BODY) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status: Number(m[1]), body, bodySeen: true, via: "account_test" };
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const scalar = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;

/**
 * The business codes a provider puts in its body: OpenAI's `error.code` / `error.type` (DeepSeek,
 * Kimi, Qwen's `Arrearage`, Zhipu's `"1113"`), a top-level `code`, MiniMax's `base_resp.status_code`.
 */
export function bodyCodes(body: unknown): string[] {
  const b = record(body);
  if (!b) return [];
  const error = record(b.error);
  const base = record(b.base_resp);
  return [error?.code, error?.type, b.code, b.type, base?.status_code]
    .map(scalar)
    .filter((c): c is string => c !== undefined && c !== "");
}

/** The provider's own message from its body, if it wrote one. */
export function bodyMessage(body: unknown): string | undefined {
  const b = record(body);
  if (!b) return undefined;
  const error = record(b.error);
  const base = record(b.base_resp);
  const found = [error?.message, b.error, b.message, base?.status_msg, b.msg].find(
    (m): m is string => typeof m === "string" && m.trim() !== "",
  );
  return found?.trim();
}

/**
 * The first rule that matches decides. A rule that needs a body code cannot be judged without
 * the body: when one exists for the status and the body was not relayed, a later status-only rule
 * does not decide either (Zhipu's 429 is a rate limit or no balance, by its code).
 */
export function classifyAnswer(rules: KeyTriageRule[], answer: UpstreamAnswer): Verdict {
  if (answer.status === undefined) return { class: "unknown", ambiguous: false };
  if (answer.status >= 200 && answer.status < 300 && !answer.bodySeen)
    return { class: "ready", ambiguous: false };
  const codes = answer.bodySeen ? bodyCodes(answer.body).map((c) => c.toLowerCase()) : [];
  let ambiguous = false;
  for (const rule of rules) {
    if (rule.status !== answer.status) continue;
    if (rule.body_code !== undefined) {
      if (!answer.bodySeen) ambiguous = true;
      else if (codes.includes(rule.body_code.toLowerCase())) return { class: rule.class, ambiguous: false };
      continue;
    }
    return ambiguous ? { class: "unknown", ambiguous } : { class: rule.class, ambiguous: false };
  }
  return { class: "unknown", ambiguous };
}

/**
 * "rejected by DeepSeek: HTTP 402 Insufficient Balance": the provider's words, made printable and
 * bounded; never the raw body.
 */
export function triageReason(provider: string, answer: UpstreamAnswer, verdict: Verdict): string {
  const name = printable(provider, { max: 60 });
  if (answer.status === undefined)
    return `account test failed: ${printable(answer.hostText ?? "no answer", { max: 160 })}`;
  const message = answer.bodySeen ? bodyMessage(answer.body) : undefined;
  const code = answer.bodySeen ? bodyCodes(answer.body)[0] : undefined;
  const said = [
    message ? printable(message, { max: 160 }) : undefined,
    code && !(message ?? "").includes(code) ? `(code ${printable(code, { max: 64 })})` : undefined,
  ]
    .filter(Boolean)
    .join(" ");
  const words = said || (answer.bodySeen ? "(no message)" : "(the host's model preview relays no message)");
  const tail = verdict.ambiguous
    ? `; HTTP ${answer.status} means more than one thing for ${name} and only its code tells which`
    : "";
  return `rejected by ${name}: HTTP ${answer.status} ${words}${tail}`;
}

/** What the operator does about a class: "fund", "replace", "use provider X", "retry later". */
export function nextStep(cls: KeyClass, hint: { suggested?: string; siblings?: string[] } = {}): string {
  switch (cls) {
    case "ready":
      return "none";
    case "revoked":
      return hint.siblings && hint.siblings.length > 0
        ? `replace the key, or, if it belongs to another region, import it with provider ${hint.siblings.join(" or ")}`
        : "replace the key: the provider refuses it (revoked, expired or mistyped)";
    case "balance_empty":
      return "fund the provider account this key belongs to, then import the key again";
    case "wrong_region":
      return hint.suggested
        ? `use provider ${hint.suggested}: the key belongs to that region (relay provider import ${hint.suggested} …)`
        : "use the provider of the key's own region";
    case "rate_limited":
      return "retry later: the key works but the provider rate-limits it now";
    case "unknown":
      return "check the key at the provider's console; `relay batch show` has the host's words";
  }
}
