import { describe, expect, it } from "vitest";
import type { Finding } from "../../src/domain/drift.js";
import { nextProviderState, type ProviderFacts } from "../../src/domain/status.js";

const installed = (over: Partial<ProviderFacts> = {}): ProviderFacts => ({
  disabled: false,
  live: { groups: 1, accounts: 2 },
  lastBatch: { id: "b_1", status: "succeeded", reason: "2 working account(s)", importFailed: false },
  ...over,
});
const finding = (kind: Finding["kind"]): Finding => ({
  kind,
  resource_type: "account",
  name: "deepseek-1",
  host_resource_id: 1,
  message: `${kind} finding`,
});

describe("nextProviderState: the one place a provider's status and access are decided", () => {
  const cases: { name: string; facts: ProviderFacts; status: string; access: string; reason?: RegExp }[] = [
    {
      name: "nothing imported yet",
      facts: { disabled: false, live: { groups: 0, accounts: 0 } },
      status: "validated",
      access: "not_configured",
    },
    {
      name: "imported, access never proven",
      facts: installed(),
      status: "installed",
      access: "not_configured",
      reason: /2 working account/,
    },
    {
      name: "imported and proven",
      facts: installed({ proof: { state: "subscription_ready", reason: "called" } }),
      status: "active",
      access: "subscription_ready",
    },
    {
      name: "imported, proof broken",
      facts: installed({ proof: { state: "broken", reason: "403" } }),
      status: "degraded",
      access: "broken",
    },
    {
      name: "after a full rollback the provider is not installed and access not configured",
      facts: {
        disabled: false,
        live: { groups: 0, accounts: 0 },
        lastBatch: {
          id: "b_1",
          status: "rolled_back",
          reason: "rolled back on request",
          importFailed: false,
        },
        proof: { state: "subscription_ready", reason: "stale proof of the deleted group" },
      },
      status: "not_installed",
      access: "not_configured",
      reason: /b_1 rolled back/,
    },
    {
      name: "a failed import that was rolled back",
      facts: {
        disabled: false,
        live: { groups: 0, accounts: 0 },
        lastBatch: { id: "b_2", status: "rolled_back", reason: "group: HTTP 500", importFailed: true },
      },
      status: "failed",
      access: "not_configured",
      reason: /last import failed/,
    },
    {
      name: "a rollback that stopped half-way",
      facts: installed({ unfinishedRollback: "b_3", proof: { state: "subscription_ready", reason: "ok" } }),
      status: "drifted",
      access: "subscription_ready",
      reason: /relay batch rollback b_3/,
    },
    {
      name: "drift found by reconcile outranks a proven access",
      facts: installed({
        findings: [finding("missing")],
        proof: { state: "subscription_ready", reason: "ok" },
      }),
      status: "drifted",
      access: "subscription_ready",
    },
    {
      name: "a failing account degrades",
      facts: installed({
        findings: [finding("account_failing")],
        proof: { state: "subscription_ready", reason: "ok" },
      }),
      status: "degraded",
      access: "subscription_ready",
    },
    {
      name: "an old access_broken finding yields to a newer proof",
      facts: installed({
        findings: [finding("access_broken")],
        proof: { state: "subscription_ready", reason: "ok" },
      }),
      status: "active",
      access: "subscription_ready",
    },
    {
      name: "an incompatible pack fails",
      facts: installed({ findings: [finding("incompatible")] }),
      status: "failed",
      access: "not_configured",
    },
    {
      name: "disabled stays disabled",
      facts: installed({ disabled: true, proof: { state: "subscription_ready", reason: "ok" } }),
      status: "disabled",
      access: "subscription_ready",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = nextProviderState(c.facts);
      expect([s.status, s.access]).toEqual([c.status, c.access]);
      if (c.reason) expect(s.reason).toMatch(c.reason);
    });
  }
});

describe("reconcileOutcome: what is on the host now", () => {
  it("reads the two axes: out of sync is drift, down or degraded health is degraded, the rest ok", async () => {
    const { reconcileOutcome } = await import("../../src/domain/status.js");
    const outcome = (facts: ProviderFacts) => reconcileOutcome(nextProviderState(facts));
    const nothing = { disabled: false, live: { groups: 0, accounts: 0 } };
    const failedImport = { id: "b", status: "rolled_back" as const, reason: "x", importFailed: true };
    expect(outcome({ ...nothing, lastBatch: failedImport, findings: [] })).toBe("ok");
    expect(outcome(installed({ findings: [finding("incompatible")] }))).toBe("drift");
    expect(outcome(installed({ findings: [finding("missing")] }))).toBe("drift");
    expect(outcome(installed({ findings: [finding("account_failing")] }))).toBe("degraded");
    expect(outcome(installed({ findings: [] }))).toBe("ok");
  });

  it("a failed import's reason names the command to run again", () => {
    const s = nextProviderState({
      disabled: false,
      live: { groups: 0, accounts: 0 },
      lastBatch: { id: "b_2", status: "rolled_back", reason: "account test failed", importFailed: true },
      names: { providerId: "deepseek", hostName: "prod" },
    });
    expect(s.status).toBe("failed");
    expect(s.reason).toMatch(/`relay provider import deepseek --host prod` again/);
  });
});
