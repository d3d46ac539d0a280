import { and, desc, eq, like } from "drizzle-orm";
import {
  type AccountHealthState,
  DEFAULT_POLICY,
  type HealthState,
  type PolicySettings,
} from "../domain/health-policy.js";
import { type Db, nowIso, type StoreContext } from "./db.js";
import { accountHealth, events, healthPolicies } from "./schema.js";
import { stmt } from "./statements.js";

/** The health policy of a provider on a host, its last health, and whether a row exists yet. */
export interface StoredPolicy extends PolicySettings {
  health: HealthState;
  healthReason: string;
  healthChangedAt: string | null;
}

const policyWhere = (hostId: string, providerId: string) =>
  and(eq(healthPolicies.hostId, hostId), eq(healthPolicies.providerId, providerId));
const accountsWhere = (hostId: string, providerId: string) =>
  and(eq(accountHealth.hostId, hostId), eq(accountHealth.providerId, providerId));

export function getPolicy(s: StoreContext, hostId: string, providerId: string): StoredPolicy {
  const row = s.db.select().from(healthPolicies).where(policyWhere(hostId, providerId)).get();
  if (!row) return { ...DEFAULT_POLICY, health: "unknown", healthReason: "", healthChangedAt: null };
  return {
    enforce: row.enforce,
    failAfter: row.failAfter,
    resumeAfter: row.resumeAfter,
    floor: DEFAULT_POLICY.floor,
    health: row.health,
    healthReason: row.healthReason,
    healthChangedAt: row.healthChangedAt,
  };
}

/** Switches enforcement or changes thresholds (the rest keeps its value, or the default). */
export function setPolicy(
  s: StoreContext,
  hostId: string,
  providerId: string,
  change: Partial<Pick<PolicySettings, "enforce" | "failAfter" | "resumeAfter">>,
): StoredPolicy {
  const current = getPolicy(s, hostId, providerId);
  const values = {
    enforce: change.enforce ?? current.enforce,
    failAfter: change.failAfter ?? current.failAfter,
    resumeAfter: change.resumeAfter ?? current.resumeAfter,
    updatedAt: nowIso(s),
  };
  s.db
    .insert(healthPolicies)
    .values({ hostId, providerId, ...values })
    .onConflictDoUpdate({ target: [healthPolicies.hostId, healthPolicies.providerId], set: values })
    .run();
  return getPolicy(s, hostId, providerId);
}

/** Records the provider's health; answers the one it had before (a transition when they differ). */
export function recordHealth(
  s: StoreContext,
  hostId: string,
  providerId: string,
  health: HealthState,
  reason: string,
): HealthState {
  const before = getPolicy(s, hostId, providerId);
  const now = nowIso(s);
  const values = {
    health,
    healthReason: reason,
    healthChangedAt: before.health === health ? before.healthChangedAt : now,
    updatedAt: now,
  };
  s.db
    .insert(healthPolicies)
    .values({ hostId, providerId, ...values })
    .onConflictDoUpdate({ target: [healthPolicies.hostId, healthPolicies.providerId], set: values })
    .run();
  return before.health;
}

export interface StoredAccountHealth extends AccountHealthState {
  accountId: number;
  name: string;
  updatedAt: string;
}

export function accountStates(s: StoreContext, hostId: string, providerId: string): StoredAccountHealth[] {
  return s.db
    .select()
    .from(accountHealth)
    .where(accountsWhere(hostId, providerId))
    .orderBy(accountHealth.accountId)
    .all()
    .map((r) => ({
      accountId: r.accountId,
      name: r.accountName,
      failStreak: r.failStreak,
      passStreak: r.passStreak,
      resumes: r.resumes,
      latch: r.latched ? { reason: r.latchReason ?? "", at: r.latchedAt ?? "" } : null,
      lastAction: r.lastAction,
      updatedAt: r.updatedAt,
    }));
}

/** Writes every account's state of one run in one transaction. */
export function saveAccountStates(
  s: StoreContext,
  hostId: string,
  providerId: string,
  entries: { accountId: number; name: string; state: AccountHealthState }[],
): void {
  const now = nowIso(s);
  s.db.transaction((tx) => {
    for (const e of entries) {
      const values = {
        accountName: e.name,
        failStreak: e.state.failStreak,
        passStreak: e.state.passStreak,
        resumes: e.state.resumes,
        latched: e.state.latch !== null,
        latchReason: e.state.latch?.reason ?? null,
        latchedAt: e.state.latch?.at ?? null,
        lastAction: e.state.lastAction,
        updatedAt: now,
      };
      tx.insert(accountHealth)
        .values({ hostId, providerId, accountId: e.accountId, ...values })
        .onConflictDoUpdate({
          target: [accountHealth.hostId, accountHealth.providerId, accountHealth.accountId],
          set: values,
        })
        .run();
    }
  });
}

/** Forgets one account (released or gone from the host). */
export function forgetAccount(s: StoreContext, hostId: string, providerId: string, accountId: number): void {
  s.db
    .delete(accountHealth)
    .where(and(accountsWhere(hostId, providerId), eq(accountHealth.accountId, accountId)))
    .run();
}

/** Accounts held by relay's latches, per host name and provider: the `relay_policy_paused_accounts` gauge. */
export function pausedByRelay(db: Db): { host: string; provider: string; count: number }[] {
  return (
    stmt(
      db.$client,
      "SELECT h.name AS host, a.provider_id AS provider, count(*) AS count FROM account_health a JOIN hosts h ON h.id = a.host_id WHERE a.latched = 1 GROUP BY h.name, a.provider_id",
    ).all() as { host: string; provider: string; count: number | string }[]
  ).map((r) => ({ ...r, count: Number(r.count) }));
}

export interface PolicyEvent {
  at: string;
  kind: string;
  message: string;
  data: Record<string, unknown>;
}

/** The newest health-policy events of a provider on a host (kinds `policy.*`), newest first. */
export function policyEvents(s: StoreContext, hostId: string, providerId: string, limit = 50): PolicyEvent[] {
  return s.db
    .select({ at: events.at, kind: events.kind, message: events.message, data: events.data })
    .from(events)
    .where(and(eq(events.hostId, hostId), eq(events.providerId, providerId), like(events.kind, "policy.%")))
    .orderBy(desc(events.id))
    .limit(limit)
    .all();
}

/** Host ids of the accounts relay's policy holds paused (reconcile expects them unschedulable). */
export function latchedIds(s: StoreContext, hostId: string, providerId: string): Set<number> {
  return new Set(
    s.db
      .select({ id: accountHealth.accountId })
      .from(accountHealth)
      .where(and(accountsWhere(hostId, providerId), eq(accountHealth.latched, true)))
      .all()
      .map((r) => r.id),
  );
}
