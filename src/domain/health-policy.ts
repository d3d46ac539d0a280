/**
 * The health policy of one provider on one host (issue #28 item 1), decided purely from facts:
 * what the host shows of each account relay made, this run's test of it, and what relay recorded
 * before (streaks, its own latch). The verb (src/policy/) observes, calls `decideHealthPolicy`,
 * and — only when enforcement is on — acts and records. Fed today by relay's own account tests and
 * host account fields; a later triage (key classes) or health axis can feed the same facts.
 *
 * Rules:
 * - relay pauses (schedulable=false, with a latch) an account that failed `failAfter` tests in a
 *   row, or that the host marks dead (status `error`, or paused for want of balance) while still
 *   schedulable; a rate limit (429) is never a failure (the host's own cooldown handles it);
 * - relay resumes only what it latched, after `resumeAfter` passing tests in a row — doubled for
 *   every earlier resume of the same account (flapping is held back by a growing number of tests);
 * - an account relay did not latch and the host shows unschedulable was paused by a person (or by
 *   the host): never touched, only reported;
 * - the floor wins: no pause leaves a group with fewer than `floor` serving accounts, and says so.
 */

export type HealthState = "unknown" | "healthy" | "degraded" | "down";
export type TestClass = "passed" | "revoked" | "balance_empty" | "rate_limited" | "failed";

export interface PolicySettings {
  enforce: boolean;
  failAfter: number;
  resumeAfter: number;
  floor: number;
}

export const DEFAULT_POLICY: PolicySettings = { enforce: false, failAfter: 3, resumeAfter: 2, floor: 1 };
/** The most a growing delay multiplies `resumeAfter` by (2^5 = 32 passing tests at M=1). */
const MAX_DOUBLINGS = 5;

/** What relay recorded about one account before this run. */
export interface AccountHealthState {
  failStreak: number;
  passStreak: number;
  /** How often relay resumed it since the last release: each doubles the passes the next resume needs. */
  resumes: number;
  latch: { reason: string; at: string } | null;
  /** The last action decided for it (so a repeated observation is not a new event). */
  lastAction: ActionKind | null;
}

export const FRESH_STATE: AccountHealthState = {
  failStreak: 0,
  passStreak: 0,
  resumes: 0,
  latch: null,
  lastAction: null,
};

export interface AccountFacts {
  id: number;
  name: string;
  groupId: number | null;
  host: {
    status: string;
    schedulable: boolean;
    errorMessage: string;
    /** temp_unschedulable_reason while the host holds the account out (dto/types.go:223-230@67380eafd). */
    pauseReason?: string;
  };
  /** This run's test, when the account was tested. */
  test?: { success: boolean; error?: string };
  state: AccountHealthState;
}

export type ActionKind =
  | "pause"
  | "resume"
  | "floor_held"
  | "held_back"
  | "untouched"
  | "latch_dropped"
  | "still_paused";

export interface PolicyAction {
  kind: ActionKind;
  accountId: number;
  name: string;
  groupId: number | null;
  reason: string;
}

export interface PolicyDecision {
  /** Every account's state after this run, as it is to be recorded (latches only when enforcing). */
  states: Map<number, AccountHealthState>;
  actions: PolicyAction[];
  health: HealthState;
  healthReason: string;
}

const REVOKED =
  /\b401\b|\b403\b|unauthori[sz]ed|invalid[ _-]?(api[ _-]?)?key|incorrect api key|authentication/i;
const BALANCE =
  /\b402\b|insufficient[ _-]?(balance|quota)|\b1113\b|arrearage|余额|欠费|balance below|out of (credit|balance)|quota exceeded/i;
const RATE = /\b429\b|rate[ _-]?limit|too many requests/i;

/** What a failed test (or a host error text) says about the key. */
export function classifyTest(success: boolean, error = ""): TestClass {
  if (success) return "passed";
  if (BALANCE.test(error)) return "balance_empty";
  if (REVOKED.test(error)) return "revoked";
  if (RATE.test(error)) return "rate_limited";
  return "failed";
}

/** Why the host's own state says the key is dead, or null. A rate-limit pause is not death. */
export function hostDeadReason(host: AccountFacts["host"]): string | null {
  if (host.status === "error")
    return `the host marks it error (${classifyTest(false, host.errorMessage)}): ${host.errorMessage || "no message"}`;
  if (host.pauseReason && classifyTest(false, host.pauseReason) === "balance_empty")
    return `the host paused it: ${host.pauseReason}`;
  return null;
}

const serving = (h: AccountFacts["host"]) => h.schedulable && h.status === "active";
const needed = (s: PolicySettings, st: AccountHealthState) =>
  s.resumeAfter * 2 ** Math.min(st.resumes, MAX_DOUBLINGS);

function advance(st: AccountHealthState, test: AccountFacts["test"]): AccountHealthState {
  if (!test) return { ...st };
  const cls = classifyTest(test.success, test.error);
  if (cls === "passed") return { ...st, passStreak: st.passStreak + 1, failStreak: 0 };
  if (cls === "rate_limited") return { ...st };
  return { ...st, failStreak: st.failStreak + 1, passStreak: 0 };
}

interface Candidate {
  facts: AccountFacts;
  state: AccountHealthState;
  reason: string;
}

/** Decides one run. `now` is the latch time recorded for a pause. */
export function decideHealthPolicy(
  settings: PolicySettings,
  accounts: AccountFacts[],
  now: string,
): PolicyDecision {
  const states = new Map<number, AccountHealthState>();
  const actions: PolicyAction[] = [];
  const act = (f: AccountFacts, kind: ActionKind, reason: string) =>
    actions.push({ kind, accountId: f.id, name: f.name, groupId: f.groupId, reason });
  const servingByGroup = new Map<number | null, number>();
  for (const f of accounts)
    if (serving(f.host)) servingByGroup.set(f.groupId, (servingByGroup.get(f.groupId) ?? 0) + 1);
  const candidates: Candidate[] = [];
  for (const f of accounts) {
    const st = advance(f.state, f.test);
    states.set(f.id, st);
    if (st.latch) {
      decideLatched(settings, f, st, states, act, servingByGroup);
      continue;
    }
    if (!f.host.schedulable) {
      const why =
        f.host.status === "error"
          ? `the host put it in error and out of scheduling (${f.host.errorMessage || "no message"}); relay leaves it alone — rotate its key (\`relay provider rotate PROVIDER --host HOST --keys-file NEW --accounts revoked\`)`
          : "paused by a person (relay did not pause it): never touched";
      act(f, "untouched", why);
      continue;
    }
    const dead = hostDeadReason(f.host);
    if (dead) candidates.push({ facts: f, state: st, reason: dead });
    else if (st.failStreak >= settings.failAfter) {
      const cls = classifyTest(false, f.test?.error ?? "");
      candidates.push({
        facts: f,
        state: st,
        reason: `failed ${st.failStreak} tests in a row (${cls})${f.test?.error ? `: ${f.test.error}` : ""}`,
      });
    }
  }
  // The worst first: a floor keeps the account that failed least.
  candidates.sort((a, b) => b.state.failStreak - a.state.failStreak || a.facts.id - b.facts.id);
  for (const c of candidates) decideCandidate(settings, c, now, states, act, servingByGroup);
  const decision = { states, actions };
  const [health, healthReason] = healthOf(accounts, decision);
  for (const a of actions) {
    const st = states.get(a.accountId);
    if (st) st.lastAction = a.kind;
  }
  for (const f of accounts) {
    const st = states.get(f.id);
    if (st && !actions.some((a) => a.accountId === f.id)) st.lastAction = null;
  }
  return { states, actions, health, healthReason };
}

function decideLatched(
  settings: PolicySettings,
  f: AccountFacts,
  st: AccountHealthState,
  states: Map<number, AccountHealthState>,
  act: (f: AccountFacts, kind: ActionKind, reason: string) => void,
  servingByGroup: Map<number | null, number>,
) {
  if (f.host.schedulable) {
    // Someone put it back by hand: the person's decision stands, relay drops its latch.
    states.set(f.id, { ...st, latch: null, resumes: 0 });
    act(
      f,
      "latch_dropped",
      "schedulable again by someone else: relay's latch dropped, the account left as it is",
    );
    return;
  }
  const need = needed(settings, st);
  if (st.passStreak >= need) {
    states.set(f.id, { ...st, latch: null, resumes: st.resumes + 1, passStreak: 0 });
    if (f.host.status === "active") servingByGroup.set(f.groupId, (servingByGroup.get(f.groupId) ?? 0) + 1);
    act(f, "resume", `passed ${st.passStreak} tests in a row (paused: ${st.latch?.reason})`);
  } else if (st.passStreak >= settings.resumeAfter)
    act(f, "held_back", `flapping: ${st.passStreak} of ${need} passing tests before relay resumes it`);
  else act(f, "still_paused", `paused by relay: ${st.latch?.reason}`);
}

function decideCandidate(
  settings: PolicySettings,
  c: Candidate,
  now: string,
  states: Map<number, AccountHealthState>,
  act: (f: AccountFacts, kind: ActionKind, reason: string) => void,
  servingByGroup: Map<number | null, number>,
) {
  const { facts: f, state: st } = c;
  const left = servingByGroup.get(f.groupId) ?? 0;
  const counts = serving(f.host);
  if (counts && left - 1 < settings.floor) {
    act(
      f,
      "floor_held",
      `would pause (${c.reason}) but it is the last serving account of its group: the floor keeps ${settings.floor}`,
    );
    return;
  }
  if (counts) servingByGroup.set(f.groupId, left - 1);
  act(f, "pause", c.reason);
  if (settings.enforce) states.set(f.id, { ...st, latch: { reason: c.reason, at: now }, passStreak: 0 });
}

function healthOf(
  accounts: AccountFacts[],
  d: { states: Map<number, AccountHealthState>; actions: PolicyAction[] },
): [HealthState, string] {
  // Accounts a person paused are theirs: they neither make the provider degraded nor count as serving.
  const manual = (f: AccountFacts) => !f.state.latch && !f.host.schedulable && f.host.status !== "error";
  const watched = accounts.filter((f) => !manual(f));
  if (watched.length === 0) return ["unknown", "no account relay watches"];
  const good = watched.filter((f) => {
    const st = d.states.get(f.id);
    const paused = d.actions.some(
      (a) =>
        a.accountId === f.id && (a.kind === "pause" || a.kind === "still_paused" || a.kind === "held_back"),
    );
    const resumed = d.actions.some((a) => a.accountId === f.id && a.kind === "resume");
    return (
      (resumed || (serving(f.host) && !paused)) &&
      (st?.failStreak ?? 0) === 0 &&
      hostDeadReason(f.host) === null
    );
  });
  if (good.length === 0)
    return ["down", `none of ${watched.length} accounts is serving and passing its tests`];
  if (good.length < watched.length)
    return ["degraded", `${good.length} of ${watched.length} accounts serving and passing`];
  return ["healthy", `all ${watched.length} accounts serving and passing`];
}
