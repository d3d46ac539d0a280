import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "./errors.js";

/** The message shapes a webhook can take (docs/operations.md "Alerts" cites each one's doc). */
export const WEBHOOK_FORMATS = ["generic", "feishu", "wecom", "dingtalk"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookTarget {
  format: WebhookFormat;
  /** Carries the receiver's token (a Feishu hook id, a DingTalk access_token): never logged or shown. */
  url: string;
  /** `format host` — what logs and metrics name the target by. */
  label: string;
}

export interface AlertConfig {
  webhooks: WebhookTarget[];
  /** Retries after the first attempt (p-retry, exponential backoff from `minBackoffMs`). */
  retries: number;
  minBackoffMs: number;
  timeoutMs: number;
}

const ENTRY = /^(generic|feishu|wecom|dingtalk)=(https?:\/\/\S+)$/;

/**
 * `FORMAT=URL` entries separated by commas, blanks or new lines (`#` starts a comment), from
 * RELAY_ALERT_WEBHOOKS and then RELAY_ALERT_WEBHOOKS_FILE (a file keeps the URLs' tokens out of
 * the environment). A bad entry stops the start, named by position — never echoed, it may hold a token.
 */
export function parseWebhooks(variable: string, text: string): WebhookTarget[] {
  const words = text
    .split("\n")
    .map((line) => line.replace(/#.*$/, ""))
    .join(",")
    .split(/[,\s]+/)
    .filter((w) => w !== "");
  const out: WebhookTarget[] = [];
  const problems: string[] = [];
  words.forEach((w, i) => {
    const m = ENTRY.exec(w);
    let url: URL | undefined;
    try {
      url = m ? new URL(m[2] as string) : undefined;
    } catch {
      url = undefined;
    }
    if (!m || !url)
      problems.push(`entry ${i + 1} is not FORMAT=URL with FORMAT one of ${WEBHOOK_FORMATS.join(", ")}`);
    else out.push({ format: m[1] as WebhookFormat, url: url.href, label: `${m[1]} ${url.host}` });
  });
  if (problems.length > 0) throw new ConfigError(variable, problems.join("; "));
  return out;
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return n;
}

export function parseAlertConfig(env: NodeJS.ProcessEnv): AlertConfig {
  const webhooks: WebhookTarget[] = [];
  const [INLINE, FILE] = ["RELAY_ALERT_WEBHOOKS", "RELAY_ALERT_WEBHOOKS_FILE"] as const;
  const inline = env[INLINE]?.trim();
  if (inline) webhooks.push(...parseWebhooks(INLINE, inline));
  const file = env[FILE]?.trim();
  if (file) {
    let text: string;
    try {
      text = readFileSync(resolve(file), "utf8");
    } catch (err) {
      throw new ConfigError(FILE, `cannot read ${file}: ${(err as Error).message}`);
    }
    webhooks.push(...parseWebhooks(FILE, text));
  }
  return {
    webhooks,
    retries: intVar(env, "RELAY_ALERT_RETRIES", 4, 0, 10),
    minBackoffMs: intVar(env, "RELAY_ALERT_BACKOFF_MS", 1_000, 1, 60_000),
    timeoutMs: intVar(env, "RELAY_ALERT_TIMEOUT_MS", 10_000, 100, 120_000),
  };
}
