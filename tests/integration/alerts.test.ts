import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Alert } from "../../src/alerts/messages.js";
import { sendAlerts } from "../../src/alerts/send.js";
import { parseAlertConfig } from "../../src/config/alerts.js";
import { ConfigError } from "../../src/config/index.js";
import { createLogger } from "../../src/util/logger.js";
import { Metrics } from "../../src/util/metrics.js";

interface Seen {
  path: string;
  body: Record<string, unknown>;
}

/** A real receiver on loopback: each path answers with the next scripted status and body. */
async function receiver(script: Record<string, { status: number; body: unknown }[]>) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const path = req.url ?? "";
      seen.push({ path, body: JSON.parse(text) });
      const next = script[path]?.shift() ?? { status: 200, body: { ok: true } };
      res.writeHead(next.status, { "content-type": "application/json" });
      res.end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const KEY = `sk-${"ab12".repeat(8)}`;
const alert: Alert = {
  topic: "health",
  hostName: "prod",
  providerId: "deepseek",
  from: "healthy",
  to: "degraded",
  resolved: false,
  summary: `3 of 5 accounts serving; last error quoted ${KEY}`,
  at: "2026-12-02T07:00:00.000Z",
};

function sink(webhooks: string) {
  const metrics = new Metrics();
  const config = {
    alerts: parseAlertConfig({
      RELAY_ALERT_WEBHOOKS: webhooks,
      RELAY_ALERT_BACKOFF_MS: "1",
      RELAY_ALERT_RETRIES: "3",
    }),
  };
  return { config, metrics, logger: createLogger("silent") };
}
const count = async (m: Metrics, format: string, outcome: string) =>
  (await m.alerts.get()).values.find((v) => v.labels.format === format && v.labels.outcome === outcome)
    ?.value ?? 0;

describe("alert webhooks against a local receiver", () => {
  it("sends each receiver its own message format, never a key", async () => {
    const rx = await receiver({
      "/feishu": [{ status: 200, body: { code: 0, msg: "success" } }],
      "/wecom": [{ status: 200, body: { errcode: 0, errmsg: "ok" } }],
      "/ding": [{ status: 200, body: { errcode: 0, errmsg: "ok" } }],
    });
    close = rx.close;
    const s = sink(
      `generic=${rx.base}/generic, feishu=${rx.base}/feishu wecom=${rx.base}/wecom\ndingtalk=${rx.base}/ding`,
    );
    const out = await sendAlerts(s, [alert]);
    expect(out.map((d) => [d.target.split(" ")[0], d.ok, d.attempts])).toEqual([
      ["generic", true, 1],
      ["feishu", true, 1],
      ["wecom", true, 1],
      ["dingtalk", true, 1],
    ]);
    const by = (p: string) => rx.seen.find((x) => x.path === p)?.body;
    expect(by("/generic")).toMatchObject({
      topic: "health",
      provider: "deepseek",
      from: "healthy",
      to: "degraded",
      resolved: false,
    });
    expect(by("/feishu")).toEqual({
      msg_type: "text",
      content: { text: expect.stringContaining("deepseek on prod") },
    });
    expect(by("/wecom")).toEqual({
      msgtype: "text",
      text: { content: expect.stringContaining("HEALTH DEGRADED") },
    });
    expect(by("/ding")).toEqual({ msgtype: "text", text: { content: expect.stringContaining("[relay]") } });
    for (const x of rx.seen) expect(JSON.stringify(x.body)).not.toContain(KEY);
    expect(await count(s.metrics, "feishu", "sent")).toBe(1);
  });

  it("retries a receiver that is down (5xx, 429, a bot's error code) with backoff, and gives up on a 4xx at once", async () => {
    const rx = await receiver({
      "/flaky": [
        { status: 503, body: {} },
        { status: 429, body: {} },
      ],
      "/bot": [
        { status: 200, body: { code: 9499, msg: "too many requests" } },
        { status: 200, body: { code: 0, msg: "success" } },
      ],
      "/gone": [{ status: 404, body: {} }],
      "/dead": [500, 500, 500, 500, 500].map((status) => ({ status, body: {} })),
    });
    close = rx.close;
    const s = sink(
      `generic=${rx.base}/flaky,feishu=${rx.base}/bot,generic=${rx.base}/gone,generic=${rx.base}/dead`,
    );
    const out = await sendAlerts(s, [alert]);
    expect(out.map((d) => [d.ok, d.attempts])).toEqual([
      [true, 3],
      [true, 2],
      [false, 1],
      [false, 4],
    ]);
    expect(out[3]?.error).not.toContain(rx.base);
    expect(await count(s.metrics, "generic", "failed")).toBe(2);
    expect(await count(s.metrics, "generic", "sent")).toBe(1);
  });

  it("configuration: FORMAT=URL from the variable and the file; a bad entry stops the start without echoing it", () => {
    const dir = process.env.TMPDIR ?? "/tmp";
    const file = join(dir, `relay-hooks-${process.pid}.txt`);
    writeFileSync(
      file,
      "# ops room\nwecom=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-token\n",
    );
    const c = parseAlertConfig({
      RELAY_ALERT_WEBHOOKS: "feishu=https://open.feishu.cn/open-apis/bot/v2/hook/abc",
      RELAY_ALERT_WEBHOOKS_FILE: file,
    });
    expect(c.webhooks.map((w) => w.label)).toEqual(["feishu open.feishu.cn", "wecom qyapi.weixin.qq.com"]);
    expect(c.retries).toBe(4);
    const bad = () => parseAlertConfig({ RELAY_ALERT_WEBHOOKS: "slack=https://hooks.example/secret-token" });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/RELAY_ALERT_WEBHOOKS: entry 1 is not FORMAT=URL/);
    try {
      bad();
    } catch (err) {
      expect((err as Error).message).not.toContain("secret-token");
    }
  });
});
