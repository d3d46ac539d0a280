import {
  type AccountHealthState,
  DEFAULT_POLICY,
  type HealthState,
  type PolicySettings,
} from "../domain/health-policy.js";
import { type Db, inTransaction, nowIso, type StoreContext, write } from "./db.js";

/** The health policy of a provider on a host, its last health, and whether a row exists yet. */
export interface StoredPolicy extends PolicySettings {
  health: HealthState;
  healthReason: string;
  healthChangedAt: string | null;
}

export async function getPolicy(s: StoreContext, hostId: string, providerId: string): Promise<StoredPolicy> {
  const row = await s.db.q
    .selectFrom("health_policies")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .executeTakeFirst();
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
export async function setPolicy(
  s: StoreContext,
  hostId: string,
  providerId: string,
  change: Partial<Pick<PolicySettings, "enforce" | "failAfter" | "resumeAfter">>,
): Promise<StoredPolicy> {
  const current = await getPolicy(s, hostId, providerId);
  const values = {
    enforce: change.enforce ?? current.enforce,
    failAfter: change.failAfter ?? current.failAfter,
    resumeAfter: change.resumeAfter ?? current.resumeAfter,
    updatedAt: nowIso(s),
  };
  await write(s, (q) =>
    q
      .insertInto("health_policies")
      .values({ hostId, providerId, ...values })
      .onConflict((oc) => oc.columns(["hostId", "providerId"]).doUpdateSet(values))
      .execute(),
  );
  return getPolicy(s, hostId, providerId);
}

/** Records the provider's health; answers the one it had before (a transition when they differ). */
export async function recordHealth(
  s: StoreContext,
  hostId: string,
  providerId: string,
  health: HealthState,
  reason: string,
): Promise<HealthState> {
  const before = await getPolicy(s, hostId, providerId);
  const now = nowIso(s);
  const values = {
    health,
    healthReason: reason,
    healthChangedAt: before.health === health ? before.healthChangedAt : now,
    updatedAt: now,
  };
  await write(s, (q) =>
    q
      .insertInto("health_policies")
      .values({ hostId, providerId, ...values })
      .onConflict((oc) => oc.columns(["hostId", "providerId"]).doUpdateSet(values))
      .execute(),
  );
  return before.health;
}

export interface StoredAccountHealth extends AccountHealthState {
  accountId: number;
  name: string;
  updatedAt: string;
}

export async function accountStates(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<StoredAccountHealth[]> {
  const rows = await s.db.q
    .selectFrom("account_health")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .orderBy("accountId")
    .execute();
  return rows.map((r) => ({
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
export async function saveAccountStates(
  s: StoreContext,
  hostId: string,
  providerId: string,
  entries: { accountId: number; name: string; state: AccountHealthState }[],
): Promise<void> {
  const now = nowIso(s);
  await inTransaction(s, async (tx) => {
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
      await tx.db.q
        .insertInto("account_health")
        .values({ hostId, providerId, accountId: e.accountId, ...values })
        .onConflict((oc) => oc.columns(["hostId", "providerId", "accountId"]).doUpdateSet(values))
        .execute();
    }
  });
}

/** Forgets one account (released or gone from the host). */
export async function forgetAccount(
  s: StoreContext,
  hostId: string,
  providerId: string,
  accountId: number,
): Promise<void> {
  await write(s, (q) =>
    q
      .deleteFrom("account_health")
      .where("hostId", "=", hostId)
      .where("providerId", "=", providerId)
      .where("accountId", "=", accountId)
      .execute(),
  );
}

/** Accounts held by relay's latches, per host name and provider: the `relay_policy_paused_accounts` gauge. */
export async function pausedByRelay(db: Db): Promise<{ host: string; provider: string; count: number }[]> {
  const rows = await db.q
    .selectFrom("account_health as a")
    .innerJoin("hosts as h", "h.id", "a.hostId")
    .where("a.latched", "=", true)
    .groupBy(["h.name", "a.providerId"])
    .select((eb) => ["h.name as host", "a.providerId as provider", eb.fn.countAll<number>().as("count")])
    .execute();
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

export interface PolicyEvent {
  at: string;
  kind: string;
  message: string;
  data: Record<string, unknown>;
}

/** The newest health-policy events of a provider on a host (kinds `policy.*`), newest first. */
export function policyEvents(
  s: StoreContext,
  hostId: string,
  providerId: string,
  limit = 50,
): Promise<PolicyEvent[]> {
  return s.db.q
    .selectFrom("events")
    .select(["at", "kind", "message", "data"])
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("kind", "like", "policy.%")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** Host ids of the accounts relay's policy holds paused (reconcile expects them unschedulable). */
export async function latchedIds(s: StoreContext, hostId: string, providerId: string): Promise<Set<number>> {
  const rows = await s.db.q
    .selectFrom("account_health")
    .select("accountId")
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .where("latched", "=", true)
    .execute();
  return new Set(rows.map((r) => r.accountId));
}
