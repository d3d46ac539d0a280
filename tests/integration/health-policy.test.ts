import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { parseAlertConfig } from "../../src/config/alerts.js";
import { configurePolicy, policyStatus, releaseProvider } from "../../src/policy/manage.js";
import { importKeys } from "../../src/provision/import.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { runReconcileTick } from "../../src/worker/scheduler.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

/** A webhook receiver: a real HTTP server that records every body and answers as told. */
interface Receiver {
  url: string;
  bodies: Record<string, unknown>[];
  /** Status to answer the next requests with (then 200). */
  failNext: number[];
  close(): Promise<void>;
}

async function receiver(
  answer: (b: Record<string, unknown>) => unknown = () => ({ ok: true }),
): Promise<Receiver> {
  const bodies: Record<string, unknown>[] = [];
  const failNext: number[] = [];
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = "";
      req.on("data", (c) => (text += c));
      req.on("end", () => resolve(text));
    });
  const server: Server = createServer(async (req, res) => {
    const body = JSON.parse(await read(req)) as Record<string, unknown>;
    bodies.push(body);
    const status = failNext.shift() ?? 200;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(status === 200 ? answer(body) : { error: "down" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    failNext,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

let w: World;
let rx: Receiver | undefined;
afterEach(async () => {
  await rx?.close();
  rx = undefined;
  await w?.close();
});

/** Five DeepSeek accounts in one group; the fifth paused by a person on the host. */
async function fiveAccounts(webhooks = "") {
  w = await makeWorld();
  rx = await receiver();
  w.t.ctx.config.alerts = parseAlertConfig({
    RELAY_ALERT_WEBHOOKS: webhooks || `generic=${rx.url}`,
    RELAY_ALERT_BACKOFF_MS: "1",
  });
  const keys = Array.from({ length: 5 }, () => deepseekKey());
  const r = await importKeys(w.t.ctx, {
    hostRef: "sim",
    providerId: "deepseek",
    keys,
    mode: "strict",
    accessMode: "subscription",
  });
  expect(r.status).toBe("succeeded");
  const byKey = (k: string) => {
    const a = liveOnHost(w.sim).accounts.find((x) => x.credentials.api_key === k);
    if (!a) throw new Error("no account for the key");
    return a;
  };
  const accounts = keys.map(byKey);
  (accounts[4] as { schedulable: boolean }).schedulable = false; // a person paused it in sub2api's UI
  return { keys, accounts, ids: accounts.map((a) => a.id) };
}

/** Judged from the host: which of the accounts are schedulable now. */
const schedulable = (ids: number[]) =>
  ids.filter((id) => liveOnHost(w.sim).accounts.find((a) => a.id === id)?.schedulable === true);
const outOfBalance = (keys: string[]) => {
  for (const k of keys) w.sim.sim.upstream.failing.set(k, 402);
};
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await runReconcileTick(w.t.ctx);
};
const policy = () => policyStatus(w.t.ctx, { hostRef: "sim", providerId: "deepseek" });

describe("health policy against the simulated host (5 accounts in a group)", () => {
  it("enforced: pauses exactly the 3 out of balance, never a 4th, never the hand-paused one; the floor keeps one; resolved at the end", async () => {
    const { keys, ids } = await fiveAccounts();
    await configurePolicy(w.t.ctx, { hostRef: "sim", providerId: "deepseek", enforce: true });
    await ticks(1);
    expect((await policy()).health).toBe("healthy");
    // The hand pause is drift (the records say schedulable): one sync message; the first health
    // verdict (unknown → healthy) is no news.
    expect(rx?.bodies.map((b) => [b.topic, b.from, b.to])).toEqual([["sync", "active", "drifted"]]);
    const health = () => rx?.bodies.filter((b) => b.topic === "health") ?? [];
    outOfBalance(keys.slice(0, 3));
    await ticks(1);
    // The gateway proof met the three 402s: the host took each out for a while itself
    // (temp_unschedulable, reason cn_balance_low, schedulable untouched); relay wrote nothing yet.
    const hostPaused = () =>
      liveOnHost(w.sim)
        .accounts.filter((a) => a.tempUnschedulableReason?.startsWith("cn_balance_low"))
        .map((a) => a.id);
    expect(hostPaused()).toEqual(ids.slice(0, 3));
    expect(schedulable(ids)).toEqual(ids.slice(0, 4));
    // The next run reads them as dead on the host and pauses them at once: the host's own pause
    // lapses after its window, relay's holds until the keys pass again.
    await ticks(1);
    expect(schedulable(ids)).toEqual([ids[3]]);
    await ticks(3); // more runs change nothing: never a 4th, never the hand-paused one
    expect(schedulable(ids)).toEqual([ids[3]]);
    const v = await policy();
    expect(v.accounts.filter((a) => a.latched).map((a) => a.account_id)).toEqual(ids.slice(0, 3));
    expect(v.accounts.find((a) => a.account_id === ids[4])?.last_action).toBe("untouched");
    expect(v.events.filter((e) => e.kind === "policy.pause")).toHaveLength(3);
    expect(health().map((b) => [b.from, b.to])).toEqual([["healthy", "degraded"]]);
    const metrics = await w.t.ctx.metrics.registry.metrics();
    expect(metrics).toContain('relay_policy_paused_accounts{host="sim",provider="deepseek"} 3');
    expect(metrics).toContain('relay_policy_actions_total{action="pause",mode="enforce"} 3');
    expect(metrics).toContain('relay_alerts_total{format="generic",outcome="sent"} 2');
    // Reconcile expects what relay paused to be unschedulable: no drift from relay's own pauses.
    const r = await reconcileProvider(
      w.t.ctx,
      { hostRef: "sim", providerId: "deepseek" },
      { trigger: "manual" },
    );
    expect(
      r.findings.filter((f) => f.kind === "changed" && ids.slice(0, 3).includes(f.host_resource_id ?? 0)),
    ).toEqual([]);

    // Every key out of balance: the last serving account is kept by the floor; health reads down.
    outOfBalance(keys);
    await ticks(3);
    expect(schedulable(ids)).toEqual([ids[3]]);
    expect((await policy()).health).toBe("down");
    expect((await policy()).events.some((e) => e.kind === "policy.floor_held")).toBe(true);

    // Keys topped up: relay resumes the three it paused after two passing tests; the hand-paused one stays.
    w.sim.sim.upstream.failing.clear();
    // …and the host's balance pause has lapsed (it lasts 20 minutes on the host).
    for (const a of liveOnHost(w.sim).accounts) {
      a.tempUnschedulableUntil = undefined;
      a.tempUnschedulableReason = undefined;
    }
    await ticks(2);
    expect(schedulable(ids)).toEqual(ids.slice(0, 4));
    expect((await policy()).health).toBe("healthy");
    expect(health().map((b) => [b.to, b.resolved])).toEqual([
      ["degraded", false],
      ["down", false],
      ["degraded", false], // the kept account passes again while the paused ones earn their second pass
      ["healthy", true],
    ]);
    // No key ever travels in a message.
    for (const b of rx?.bodies ?? []) for (const k of keys) expect(JSON.stringify(b)).not.toContain(k);
  });

  it("observe mode (the default) writes nothing to the host and says what it would do", async () => {
    const { keys, ids } = await fiveAccounts();
    outOfBalance(keys.slice(0, 3));
    const before = w.sim.sim.requestCount;
    await ticks(4);
    expect(schedulable(ids)).toEqual(ids.slice(0, 4));
    const v = await policy();
    expect(v.mode).toBe("observe");
    expect(v.accounts.some((a) => a.latched)).toBe(false);
    expect(v.events.filter((e) => e.kind === "policy.would_pause").map((e) => e.data.account_id)).toEqual(
      ids.slice(0, 3).reverse(),
    );
    expect(w.sim.sim.requestCount).toBeGreaterThan(before);
    // Over the API (the board's data): the same view.
    const app = createApp(w.t.ctx);
    const res = await app.request(`/api/providers/deepseek/policy?host_id=${w.hostId}`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { mode: string }).mode).toBe("observe");
  });

  it("revoked keys: the accounts the host put in error are reported for rotation, never touched", async () => {
    const { keys, ids } = await fiveAccounts();
    await configurePolicy(w.t.ctx, { hostRef: "sim", providerId: "deepseek", enforce: true });
    w.sim.sim.upstream.revoke(keys[0] as string);
    await ticks(2); // the first test's 401 makes the host set error + unschedulable (0.1.130+)
    const host = liveOnHost(w.sim).accounts.find((a) => a.id === ids[0]);
    expect(host).toMatchObject({ status: "error", schedulable: false });
    const v = await policy();
    const a = v.accounts.find((x) => x.account_id === ids[0]);
    expect(a).toMatchObject({ latched: false, last_action: "untouched" });
    expect(v.events.find((e) => e.data.account_id === ids[0])?.message).toMatch(/error .*rotate its key/);
    expect(v.health).toBe("degraded");
  });

  it("release hands control back: what relay paused is schedulable again, the hand-paused one untouched, latches gone", async () => {
    const { keys, ids } = await fiveAccounts();
    await configurePolicy(w.t.ctx, { hostRef: "sim", providerId: "deepseek", enforce: true, failAfter: 1 });
    outOfBalance(keys.slice(0, 2));
    await ticks(1);
    expect(schedulable(ids)).toEqual(ids.slice(2, 4));
    const r = await releaseProvider(w.t.ctx, { hostRef: "sim", providerId: "deepseek" });
    expect(r.resumed.map((a) => a.account_id)).toEqual(ids.slice(0, 2));
    expect(schedulable(ids)).toEqual(ids.slice(0, 4));
    const v = await policy();
    expect(v.mode).toBe("observe");
    expect(v.accounts).toEqual([]);
    expect(v.events[0]?.kind).toBe("policy.released");
  });
});
