import type { WebhookFormat } from "../config/alerts.js";
import { printable } from "../util/sanitize.js";

/**
 * One transition worth telling an operator: a provider's health (healthy → degraded → down and
 * back) or its sync status (active → drifted, …). Built from relay's own decisions — names, ids,
 * counts and reasons; never a key, a token or a host's admin secret.
 */
export interface Alert {
  topic: "health" | "sync";
  hostName: string;
  providerId: string;
  from: string;
  to: string;
  /** A clearing transition (back to healthy / active): the "resolved" message. */
  resolved: boolean;
  summary: string;
  at: string;
}

/** Keys and tokens never travel, even if a reason quoted one: anything that looks like a secret is masked. */
const SECRETISH = /\b(sk-[A-Za-z0-9_-]{6,}|[A-Za-z0-9_-]{32,}|eyJ[A-Za-z0-9_.-]{10,})\b/g;
export const scrub = (text: string) => printable(text).replace(SECRETISH, "[redacted]");

export function alertText(a: Alert): string {
  const head = a.resolved ? "RESOLVED" : a.topic === "health" ? `HEALTH ${a.to.toUpperCase()}` : "SYNC";
  return scrub(
    `[relay] ${head}: ${a.providerId} on ${a.hostName} — ${a.topic} ${a.from} → ${a.to}. ${a.summary} (${a.at})`,
  );
}

/**
 * The body each receiver takes, text messages only (they need no signing secret):
 * - Feishu custom bot: `{"msg_type":"text","content":{"text":…}}`
 *   (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot);
 * - WeCom group robot: `{"msgtype":"text","text":{"content":…}}`
 *   (https://developer.work.weixin.qq.com/document/path/91770);
 * - DingTalk custom robot: `{"msgtype":"text","text":{"content":…}}`
 *   (https://open.dingtalk.com/document/orgapp/custom-robot-access);
 * - generic: relay's own JSON (docs/operations.md "Alerts").
 */
export function alertBody(format: WebhookFormat, a: Alert): Record<string, unknown> {
  const text = alertText(a);
  switch (format) {
    case "feishu":
      return { msg_type: "text", content: { text } };
    case "wecom":
    case "dingtalk":
      return { msgtype: "text", text: { content: text } };
    case "generic":
      return {
        source: "sub2api-cn-relay-manager",
        topic: a.topic,
        host: scrub(a.hostName),
        provider: a.providerId,
        from: a.from,
        to: a.to,
        resolved: a.resolved,
        summary: scrub(a.summary),
        text,
        at: a.at,
      };
  }
}

/**
 * Whether the receiver took it: HTTP 2xx, and for the IM bots their own `code`/`errcode` 0
 * (they answer 200 with an error code for a bad token or a refused keyword).
 */
export function accepted(format: WebhookFormat, status: number, body: unknown): boolean {
  if (status < 200 || status >= 300) return false;
  if (format === "generic") return true;
  if (typeof body !== "object" || body === null) return false;
  const b = body as { code?: unknown; errcode?: unknown; StatusCode?: unknown };
  const code = format === "feishu" ? (b.code ?? b.StatusCode) : b.errcode;
  return code === 0;
}
