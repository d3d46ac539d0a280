import { describe, expect, it } from "vitest";
import { deriveAxes, hostReachability, severity } from "../../src/domain/axes.js";
import type { Finding } from "../../src/domain/drift.js";
import { nextProviderState, type ProviderFacts } from "../../src/domain/status.js";

const account = (id: number, kind: Finding["kind"], extra: Partial<Finding> = {}): Finding => ({
  kind,
  resource_type: "account",
  name: `deepseek-${id}`,
  host_resource_id: id,
  message: `account #${id}: ${kind}`,
  ...extra,
});
const revoked = (id: number) => account(id, "account_failing", { message: `#${id} fails its test: 401` });
const paused = (id: number) =>
  account(id, "account_failing", { message: `#${id} is rate-limited by its upstream until …` });
const facts = (accounts: number, over: Partial<ProviderFacts> = {}): ProviderFacts => ({
  disabled: false,
  live: { groups: 1, accounts },
  lastBatch: { id: "b_1", status: "succeeded", reason: "ok", importFailed: false },
  lastReconcileAt: "2026-12-02T06:00:00.000Z",
  findings: [],
  proof: { state: "subscription_ready", reason: "HTTP 200" },
  ...over,
});

describe("deriveAxes and the one rule from the axes to the design's status", () => {
  const cases: {
    name: string;
    facts: ProviderFacts;
    health: string;
    sync: string;
    status: string;
    reason?: RegExp;
  }[] = [
    {
      name: "all resources match, access proven",
      facts: facts(3),
      health: "healthy",
      sync: "in_sync",
      status: "active",
    },
    {
      name: "all 3 keys revoked → down (not the amber degraded of 2 of 5 rate-limited)",
      facts: facts(3, { findings: [revoked(1), revoked(2), revoked(3)] }),
      health: "down",
      sync: "in_sync",
      status: "degraded",
      reason: /all 3 account\(s\) unusable/,
    },
    {
      name: "2 of 5 rate-limited → degraded",
      facts: facts(5, { findings: [paused(1), paused(2)] }),
      health: "degraded",
      sync: "in_sync",
      status: "degraded",
      reason: /2 of 5 account\(s\) unusable/,
    },
    {
      name: "one account both paused and failing its test counts once",
      facts: facts(2, { findings: [paused(1), revoked(1)] }),
      health: "degraded",
      sync: "in_sync",
      status: "degraded",
    },
    {
      name: "the newest gateway proof failed → down",
      facts: facts(3, { proof: { state: "broken", reason: "HTTP 502" } }),
      health: "down",
      sync: "in_sync",
      status: "degraded",
      reason: /access broken: HTTP 502/,
    },
    {
      name: "drift and healthy → out_of_sync, drifted",
      facts: facts(3, {
        findings: [
          {
            ...account(0, "changed"),
            resource_type: "group",
            field: "rate_multiplier",
            expected: 1,
            actual: 3.5,
          },
        ],
      }),
      health: "healthy",
      sync: "out_of_sync",
      status: "drifted",
    },
    {
      name: "every account set unschedulable by hand: drift and down at once",
      facts: facts(2, {
        findings: [
          account(1, "changed", { field: "schedulable", expected: true, actual: false }),
          account(2, "changed", { field: "schedulable", expected: true, actual: false }),
        ],
      }),
      health: "down",
      sync: "out_of_sync",
      status: "drifted",
    },
    {
      name: "a changed description does not make an account unusable",
      facts: facts(1, { findings: [account(1, "changed", { field: "base_url" })] }),
      health: "healthy",
      sync: "out_of_sync",
      status: "drifted",
    },
    {
      name: "an account deleted by hand: drift, and one fewer working account",
      facts: facts(2, { findings: [account(1, "missing")] }),
      health: "degraded",
      sync: "out_of_sync",
      status: "drifted",
    },
    {
      name: "never reconciled: sync unknown; imported accounts tested, access not proven",
      facts: facts(2, { findings: undefined, lastReconcileAt: null, proof: undefined }),
      health: "healthy",
      sync: "unknown",
      status: "installed",
      reason: /2 working account/,
    },
    {
      name: "an incompatible host version: out of sync, failed",
      facts: facts(2, { findings: [{ ...account(0, "incompatible"), resource_type: "pack" }] }),
      health: "healthy",
      sync: "out_of_sync",
      status: "failed",
    },
    {
      name: "a strict import rolled back cleanly, reconciled since: in sync, health unknown, failed",
      facts: {
        disabled: false,
        live: { groups: 0, accounts: 0 },
        lastBatch: { id: "b_2", status: "rolled_back", reason: "test failed", importFailed: true },
        findings: [],
      },
      health: "unknown",
      sync: "in_sync",
      status: "failed",
    },
    {
      name: "a rollback that stopped half-way: out of sync, drifted",
      facts: facts(1, { unfinishedRollback: "b_3" }),
      health: "healthy",
      sync: "out_of_sync",
      status: "drifted",
      reason: /relay batch rollback b_3/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = nextProviderState(c.facts);
      expect([s.health.state, s.sync.state, s.status]).toEqual([c.health, c.sync, c.status]);
      if (c.reason) expect(s.reason).toMatch(c.reason);
    });
  }

  it("a view on an unreachable host says health unknown; the status decision ignores the probe", () => {
    const f = facts(3, { host: { reachable: "no", reason: "connection refused" } });
    expect(deriveAxes(f).health).toMatchObject({ state: "unknown", code: "host_unreachable" });
    expect(nextProviderState(f).health.state).toBe("healthy");
    expect(nextProviderState(f).status).toBe("active");
  });

  it("tells never reconciled from not reconciled since the last change", () => {
    expect(deriveAxes(facts(1, { findings: undefined, lastReconcileAt: null })).sync.code).toBe(
      "never_reconciled",
    );
    expect(deriveAxes(facts(1, { findings: undefined })).sync.code).toBe("not_reconciled_since_change");
  });

  it("orders by severity: down, degraded, out of sync, then the rest", () => {
    const names = ["healthy", "drift", "down", "degraded"];
    const of: Record<string, ProviderFacts> = {
      healthy: facts(2),
      drift: facts(2, { findings: [account(1, "changed", { field: "priority" })] }),
      down: facts(1, { findings: [revoked(1)] }),
      degraded: facts(2, { findings: [revoked(1)] }),
    };
    const sorted = [...names].sort(
      (a, b) => severity(deriveAxes(of[a] as ProviderFacts)) - severity(deriveAxes(of[b] as ProviderFacts)),
    );
    expect(sorted).toEqual(["down", "degraded", "drift", "healthy"]);
  });
});

describe("hostReachability", () => {
  const ok = "2026-12-02T06:00:00.000Z";
  const later = "2026-12-02T06:15:00.000Z";
  it("unreachable when the newest probe failed without an answer; a refusal is an answer", () => {
    const refused = { at: later, code: "HOST_UNREACHABLE", message: "cannot reach" };
    expect(hostReachability(ok, refused)).toMatchObject({ reachable: "no", last_probe_ok_at: ok });
    expect(hostReachability(ok, { ...refused, code: "HOST_UNAVAILABLE" }).reachable).toBe("no");
    expect(hostReachability(ok, { ...refused, code: "HOST_AUTH_FAILED" })).toMatchObject({
      reachable: "yes",
      last_error: { code: "HOST_AUTH_FAILED" },
    });
  });
  it("a probe that passed after the failure makes it reachable again; never probed is unknown", () => {
    const old = { at: ok, code: "HOST_UNREACHABLE", message: "cannot reach" };
    expect(hostReachability(later, old)).toEqual({
      reachable: "yes",
      last_probe_ok_at: later,
      last_error: null,
    });
    expect(hostReachability(null, undefined).reachable).toBe("unknown");
  });
});
