import { sendAlerts } from "../alerts/send.js";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError } from "../domain/errors.js";
import {
  type AccountFacts,
  type AccountHealthState,
  decideHealthPolicy,
  FRESH_STATE,
  type HealthState,
  type PolicyAction,
} from "../domain/health-policy.js";
import type { HostAccount, HostAdapter } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { appendEvent } from "../store/events.js";
import { accountStates, forgetAccount, getPolicy, recordHealth, saveAccountStates } from "../store/health.js";
import { findHost } from "../store/hosts.js";
import { getInstall } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import { getProviderDefinition } from "../store/packs.js";
import { liveResources } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import { mapLimit } from "../util/concurrency.js";
import { healthAlert } from "./transitions.js";

/** One account test a reconcile already made this run (so the policy does not test it twice). */
export interface TestOutcome {
  success: boolean;
  error?: string;
}

export interface PolicyRunInput {
  hostRef: string;
  providerId: string;
  /** This run's tests by host account id; absent, the policy tests every account relay made. */
  tests?: ReadonlyMap<number, TestOutcome>;
  /** The provider's accounts as this run's reconcile listed them; absent, they are listed. */
  accounts?: HostAccount[];
}

export interface PolicyActionView {
  action: PolicyAction["kind"];
  account_id: number;
  name: string;
  group_id: number | null;
  reason: string;
  /** Enforced: the host call was made and answered; observe mode: false (nothing written). */
  done: boolean;
  error?: string;
}

export interface PolicyRunResult {
  host_id: string;
  host_name: string;
  provider_id: string;
  mode: "enforce" | "observe";
  health: HealthState;
  previous_health: HealthState;
  health_reason: string;
  actions: PolicyActionView[];
  alerts: { target: string; ok: boolean; attempts: number }[];
}

const MODE = (enforce: boolean) => (enforce ? "enforce" : "observe");

/**
 * One run of the health policy of a provider on a host (domain/health-policy.ts): observe the
 * accounts relay made, test those not tested this run (and every latched one, so resumes never
 * wait on a sample), decide, and — only when enforcement is on for this provider — pause and
 * resume through `POST /admin/accounts/:id/schedulable`, each latch recorded before the call.
 * Every decided action is an event (once per change); a health transition is an alert.
 */
export async function runHealthPolicy(ctx: AppContext, input: PolicyRunInput): Promise<PolicyRunResult> {
  const host = await findHost(ctx, input.hostRef);
  if (!(await getInstall(ctx, host.id, input.providerId)))
    throw new AppError(
      "not_found",
      "PROVIDER_NOT_ON_HOST",
      `${input.providerId} was never imported on ${host.name}`,
    );
  const key = { hostId: host.id, providerId: input.providerId, hostName: host.name };
  const result = await withProviderLock(
    ctx,
    key,
    "enforcement",
    (held) => policyLocked(held, host, input),
    ctx.config.leaseMs,
  );
  const alert = healthAlert(host.name, input.providerId, result, ctx.clock().toISOString());
  if (alert) result.alerts = await sendAlerts(ctx, [alert]);
  return result;
}

async function policyLocked(ctx: AppContext, host: HostRow, input: PolicyRunInput): Promise<PolicyRunResult> {
  const settings = await getPolicy(ctx, host.id, input.providerId);
  const adapter = await hostAdapterFor(ctx, host);
  const { definition: def } = await getProviderDefinition(ctx, input.providerId);
  const rows = (await liveResources(ctx, host.id, input.providerId)).filter(
    (r) => r.resourceType === "account" && r.hostResourceId !== null,
  );
  const recorded = new Map(rows.map((r) => [r.hostResourceId as number, r]));
  const listed = input.accounts ?? (await adapter.listAccounts({ search: `${input.providerId}-` }));
  const onHost = listed.filter((a) => recorded.has(a.id));
  const before = new Map((await accountStates(ctx, host.id, input.providerId)).map((s) => [s.accountId, s]));
  for (const id of before.keys())
    if (!onHost.some((a) => a.id === id)) await forgetAccount(ctx, host.id, input.providerId, id);
  const tests = await testsFor(adapter, def.smoke_test_model, onHost, before, input.tests);
  const facts: AccountFacts[] = onHost.map((a) => factsOf(a, tests.get(a.id), before.get(a.id)));
  const now = ctx.clock().toISOString();
  const decision = decideHealthPolicy(settings, facts, now);
  const entries = onHost.map((a) => ({
    accountId: a.id,
    name: a.name,
    state: decision.states.get(a.id) ?? { ...FRESH_STATE },
  }));
  // The latch is recorded before the host call: a crash between leaves a latch on a schedulable
  // account, which the next run drops — never a pause nobody owns.
  await saveAccountStates(ctx, host.id, input.providerId, entries);
  const actions = settings.enforce
    ? await enforce(ctx, adapter, { host, providerId: input.providerId }, decision, before)
    : decision.actions.map((a) => view(a, false));
  const mode = MODE(settings.enforce);
  for (const a of decision.actions) {
    if (a.kind === "still_paused") continue;
    const changed = before.get(a.accountId)?.lastAction !== a.kind;
    if (!changed && a.kind !== "pause" && a.kind !== "resume") continue;
    if (!changed && !settings.enforce) continue;
    const acted = actions.find((x) => x.account_id === a.accountId);
    ctx.metrics.policyActions.inc({ action: a.kind, mode });
    await appendEvent(ctx, {
      kind: `policy.${settings.enforce ? a.kind : `would_${a.kind}`}`,
      message: `${settings.enforce ? "" : "observe mode, would: "}${a.kind.replace("_", " ")} ${a.name} (#${a.accountId}): ${a.reason}${acted?.error ? ` — host refused: ${acted.error}` : ""}`,
      hostId: host.id,
      providerId: input.providerId,
      data: { account_id: a.accountId, action: a.kind, mode, reason: a.reason, done: acted?.done ?? false },
    });
  }
  const previous = await recordHealth(ctx, host.id, input.providerId, decision.health, decision.healthReason);
  if (previous !== decision.health)
    await appendEvent(ctx, {
      kind: "policy.health",
      message: `health ${previous} → ${decision.health}: ${decision.healthReason}`,
      hostId: host.id,
      providerId: input.providerId,
      data: { from: previous, to: decision.health },
    });
  return {
    host_id: host.id,
    host_name: host.name,
    provider_id: input.providerId,
    mode,
    health: decision.health,
    previous_health: previous,
    health_reason: decision.healthReason,
    actions,
    alerts: [],
  };
}

function factsOf(a: HostAccount, test: TestOutcome | undefined, state: AccountHealthState | undefined) {
  return {
    id: a.id,
    name: a.name,
    groupId: a.groupIds[0] ?? null,
    host: {
      status: a.status,
      schedulable: a.schedulable,
      errorMessage: a.errorMessage,
      ...(a.pause.tempUnschedulableReason ? { pauseReason: a.pause.tempUnschedulableReason } : {}),
    },
    ...(test ? { test } : {}),
    state: state ?? { ...FRESH_STATE },
  };
}

/** The reconcile's tests, plus a test of each account it did not test (all of them without a reconcile). */
async function testsFor(
  adapter: HostAdapter,
  model: string,
  accounts: HostAccount[],
  before: ReadonlyMap<number, AccountHealthState>,
  given: ReadonlyMap<number, TestOutcome> | undefined,
): Promise<Map<number, TestOutcome>> {
  const out = new Map(given ?? []);
  const missing = accounts.filter((a) => !out.has(a.id) && (given === undefined || before.get(a.id)?.latch));
  await mapLimit(missing, 4, async (a) => {
    try {
      const t = await adapter.testAccount(a.id, model);
      out.set(
        a.id,
        t.success ? { success: true } : { success: false, ...(t.error ? { error: t.error } : {}) },
      );
    } catch (err) {
      // A test relay could not make says nothing about the key: no streak moves.
      if (!isHostError(err)) throw err;
    }
  });
  return out;
}

const view = (a: PolicyAction, done: boolean, error?: string): PolicyActionView => ({
  action: a.kind,
  account_id: a.accountId,
  name: a.name,
  group_id: a.groupId,
  reason: a.reason,
  done,
  ...(error ? { error } : {}),
});

/** Pauses and resumes on the host; a refused pause drops its latch, a refused resume keeps it. */
async function enforce(
  ctx: AppContext,
  adapter: HostAdapter,
  target: { host: HostRow; providerId: string },
  decision: { actions: PolicyAction[]; states: ReadonlyMap<number, AccountHealthState> },
  before: ReadonlyMap<number, AccountHealthState>,
): Promise<PolicyActionView[]> {
  const out: PolicyActionView[] = [];
  for (const a of decision.actions) {
    if (a.kind !== "pause" && a.kind !== "resume") {
      out.push(view(a, false));
      continue;
    }
    try {
      await adapter.setAccountSchedulable(a.accountId, a.kind === "resume");
      out.push(view(a, true));
    } catch (err) {
      if (!isHostError(err)) throw err;
      const next = decision.states.get(a.accountId) ?? { ...FRESH_STATE };
      const prior = before.get(a.accountId) ?? FRESH_STATE;
      const state =
        a.kind === "pause"
          ? { ...next, latch: null, lastAction: null }
          : { ...next, latch: prior.latch, resumes: prior.resumes, lastAction: null };
      await saveAccountStates(ctx, target.host.id, target.providerId, [
        { accountId: a.accountId, name: a.name, state },
      ]);
      out.push(view(a, false, err.message));
    }
  }
  return out;
}
