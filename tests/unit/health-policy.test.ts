import { describe, expect, it } from "vitest";
import {
  type AccountFacts,
  type AccountHealthState,
  classifyTest,
  DEFAULT_POLICY,
  decideHealthPolicy,
  FRESH_STATE,
  type PolicySettings,
} from "../../src/domain/health-policy.js";

const NOW = "2026-12-02T07:00:00.000Z";
const ENFORCE: PolicySettings = { ...DEFAULT_POLICY, enforce: true };
const PASS = { success: true };
const BROKE = {
  success: false,
  error: "Chat Completions API (/v1/chat/completions) returned 402: Insufficient Balance",
};

function account(
  id: number,
  over: Partial<AccountFacts> = {},
  state: Partial<AccountHealthState> = {},
): AccountFacts {
  return {
    id,
    name: `deepseek-${id}`,
    groupId: 1,
    host: { status: "active", schedulable: true, errorMessage: "" },
    test: PASS,
    state: { ...FRESH_STATE, ...state },
    ...over,
  };
}

/** Runs the policy `runs` times over the same host facts, carrying the recorded state forward. */
function runs(settings: PolicySettings, facts: AccountFacts[], n: number) {
  let current = facts;
  let d = decideHealthPolicy(settings, current, NOW);
  for (let i = 1; i < n; i++) {
    current = current.map((f) => ({
      ...f,
      state: d.states.get(f.id) ?? FRESH_STATE,
      host: d.actions.some((a) => a.accountId === f.id && a.kind === "pause" && settings.enforce)
        ? { ...f.host, schedulable: false }
        : f.host,
    }));
    d = decideHealthPolicy(settings, current, NOW);
  }
  return { d, facts: current };
}

const kinds = (d: ReturnType<typeof decideHealthPolicy>, kind: string) =>
  d.actions.filter((a) => a.kind === kind).map((a) => a.accountId);

describe("health policy decision", () => {
  it("classifies out-of-balance, revoked and rate-limited answers; a 429 never counts as a failure", () => {
    expect(classifyTest(false, BROKE.error)).toBe("balance_empty");
    expect(classifyTest(false, '{"code":"1113","message":"余额不足"}')).toBe("balance_empty");
    expect(classifyTest(false, '{"code":"Arrearage"}')).toBe("balance_empty");
    expect(classifyTest(false, "returned 401: invalid api key")).toBe("revoked");
    expect(classifyTest(false, "returned 429: rate limit")).toBe("rate_limited");
    expect(classifyTest(true)).toBe("passed");
    const limited = { success: false, error: "returned 429: Too Many Requests" };
    const { d } = runs(ENFORCE, [account(1, { test: limited }), account(2)], 5);
    expect(d.states.get(1)?.failStreak).toBe(0);
    expect(kinds(d, "pause")).toEqual([]);
  });

  it("pauses exactly the accounts that failed N tests in a row, with a latch, and only when enforcing", () => {
    const facts = [1, 2, 3, 4, 5].map((id) => account(id, id <= 3 ? { test: BROKE } : {}));
    const two = runs(ENFORCE, facts, 2).d;
    expect(kinds(two, "pause")).toEqual([]);
    const three = runs(ENFORCE, facts, 3).d;
    expect(kinds(three, "pause")).toEqual([1, 2, 3]);
    expect(three.states.get(2)?.latch).toEqual({ reason: expect.stringContaining("balance_empty"), at: NOW });
    expect(three.states.get(4)?.latch).toBeNull();
    expect(three.health).toBe("degraded");
    // Observe mode: the same decision is reported, nothing is latched.
    const observed = runs(DEFAULT_POLICY, facts, 3).d;
    expect(kinds(observed, "pause")).toEqual([1, 2, 3]);
    expect([...observed.states.values()].every((s) => s.latch === null)).toBe(true);
  });

  it("never touches an account a person paused, and keeps it out of the health verdict", () => {
    const manual = account(5, {
      host: { status: "active", schedulable: false, errorMessage: "" },
      test: BROKE,
    });
    const facts = [account(1, { test: BROKE }), account(2), account(3), account(4), manual];
    const { d } = runs(ENFORCE, facts, 6);
    expect(kinds(d, "untouched")).toEqual([5]);
    expect(kinds(d, "resume")).toEqual([]);
    expect(d.states.get(5)?.latch).toBeNull();
    expect(d.health).toBe("degraded");
    const healthy = decideHealthPolicy(ENFORCE, [account(1), manual], NOW);
    expect(healthy.health).toBe("healthy");
  });

  it("the floor keeps one serving account per group when every key is dead, and says so", () => {
    const facts = [1, 2, 3, 4, 5].map((id) => account(id, { test: BROKE }));
    const { d } = runs(ENFORCE, facts, 3);
    expect(kinds(d, "pause")).toHaveLength(4);
    expect(kinds(d, "floor_held")).toHaveLength(1);
    expect(d.actions.find((a) => a.kind === "floor_held")?.reason).toMatch(/floor keeps 1/);
    expect(d.health).toBe("down");
    // Another group is judged on its own.
    const other = [account(6, { groupId: 2, test: BROKE })];
    const g = runs(ENFORCE, [...facts, ...other], 3).d;
    expect(kinds(g, "floor_held")).toContain(6);
  });

  it("pauses what the host marks dead (error while schedulable, balance pause) at once; error+unschedulable is the host's", () => {
    const err = account(1, { host: { status: "error", schedulable: true, errorMessage: "returned 401" } });
    const bal = account(2, {
      host: {
        status: "active",
        schedulable: true,
        errorMessage: "",
        pauseReason: "cn provider balance below threshold",
      },
    });
    const hostPaused = account(3, {
      host: { status: "error", schedulable: false, errorMessage: "returned 401" },
    });
    const d = decideHealthPolicy(ENFORCE, [err, bal, hostPaused, account(4)], NOW);
    expect(kinds(d, "pause").sort()).toEqual([1, 2]);
    expect(d.actions.find((a) => a.accountId === 3)).toMatchObject({
      kind: "untouched",
      reason: expect.stringMatching(/rotate/),
    });
  });

  it("resumes only what it latched, after M passing tests, doubling M for every earlier resume (flapping)", () => {
    const latch = { reason: "failed", at: NOW };
    const paused = { status: "active", schedulable: false, errorMessage: "" };
    const once = decideHealthPolicy(ENFORCE, [account(1, { host: paused }, { latch }), account(2)], NOW);
    expect(kinds(once, "still_paused")).toEqual([1]);
    const twice = decideHealthPolicy(
      ENFORCE,
      [account(1, { host: paused }, { latch, passStreak: 1 }), account(2)],
      NOW,
    );
    expect(kinds(twice, "resume")).toEqual([1]);
    expect(twice.states.get(1)).toMatchObject({ latch: null, resumes: 1 });
    // Resumed twice before: 2 * 2^2 = 8 passing tests are needed; at 2..7 it is held back.
    const flapper = (passStreak: number) =>
      decideHealthPolicy(ENFORCE, [account(1, { host: paused }, { latch, passStreak, resumes: 2 })], NOW);
    expect(kinds(flapper(2), "held_back")).toEqual([1]);
    expect(flapper(2).actions[0]?.reason).toMatch(/3 of 8/);
    expect(kinds(flapper(6), "held_back")).toEqual([1]);
    expect(kinds(flapper(7), "resume")).toEqual([1]);
  });

  it("a latched account someone put back by hand: the latch is dropped, the account left alone", () => {
    const latch = { reason: "failed", at: NOW };
    const d = decideHealthPolicy(
      ENFORCE,
      [account(1, { test: BROKE }, { latch, failStreak: 5 }), account(2)],
      NOW,
    );
    expect(kinds(d, "latch_dropped")).toEqual([1]);
    expect(d.states.get(1)?.latch).toBeNull();
    expect(kinds(d, "pause")).toEqual([]);
  });
});
