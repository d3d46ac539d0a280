import pRetry, { AbortError } from "p-retry";
import type { AlertConfig, WebhookTarget } from "../config/alerts.js";
import type { Metrics } from "../util/metrics.js";
import { type Alert, accepted, alertBody } from "./messages.js";

export interface AlertSink {
  config: { alerts: AlertConfig };
  metrics: Metrics;
  logger: { warn: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void };
  fetch?: typeof fetch;
}

export interface Delivery {
  target: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/** One POST; a refusal that a retry cannot change (4xx but 408/429) stops the retries. */
async function post(sink: AlertSink, target: WebhookTarget, alert: Alert): Promise<void> {
  const res = await (sink.fetch ?? fetch)(target.url, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(alertBody(target.format, alert)),
    signal: AbortSignal.timeout(sink.config.alerts.timeoutMs),
    redirect: "error",
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (accepted(target.format, res.status, body)) return;
  const why = `HTTP ${res.status}${body === undefined ? "" : " (receiver refused the message)"}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
    throw new AbortError(why);
  throw new Error(why);
}

/**
 * Sends each alert to every configured webhook, retried with exponential backoff (p-retry).
 * Never throws: a receiver that stays down is a warning and a failed count, not a failed reconcile.
 * Logs name the target by format and host only (its URL carries a token).
 */
export async function sendAlerts(sink: AlertSink, alerts: Alert[]): Promise<Delivery[]> {
  const out: Delivery[] = [];
  for (const alert of alerts)
    for (const target of sink.config.alerts.webhooks) {
      let attempts = 0;
      try {
        await pRetry(
          () => {
            attempts += 1;
            return post(sink, target, alert);
          },
          {
            retries: sink.config.alerts.retries,
            minTimeout: sink.config.alerts.minBackoffMs,
            factor: 2,
            randomize: true,
          },
        );
        sink.metrics.alerts.inc({ format: target.format, outcome: "sent" });
        out.push({ target: target.label, ok: true, attempts });
      } catch (err) {
        const error = err instanceof Error ? err.message.replace(/https?:\/\/\S+/g, "[url]") : "failed";
        sink.metrics.alerts.inc({ format: target.format, outcome: "failed" });
        sink.logger.warn({ target: target.label, attempts, error }, "alert not delivered");
        out.push({ target: target.label, ok: false, attempts, error });
      }
    }
  return out;
}
