import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError, invalidInput } from "../domain/errors.js";
import type { HealthState } from "../domain/health-policy.js";
import { isHostError } from "../host/sub2api/index.js";
import { appendEvent } from "../store/events.js";
import {
  accountStates,
  forgetAccount,
  getPolicy,
  type PolicyEvent,
  policyEvents,
  setPolicy,
} from "../store/health.js";
import { findHost } from "../store/hosts.js";
import { getInstall } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import type { HostRow } from "../store/schema.js";

export interface PolicyView {
  host_id: string;
  host_name: string;
  provider_id: string;
  mode: "enforce" | "observe";
  fail_after: number;
  resume_after: number;
  floor: number;
  health: HealthState;
  health_reason: string;
  health_changed_at: string | null;
  accounts: {
    account_id: number;
    name: string;
    fail_streak: number;
    pass_streak: number;
    resumes: number;
    latched: boolean;
    latch_reason: string | null;
    latched_at: string | null;
    last_action: string | null;
  }[];
  events: PolicyEvent[];
}

async function target(ctx: AppContext, hostRef: string, providerId: string): Promise<HostRow> {
  const host = await findHost(ctx, hostRef);
  if (!(await getInstall(ctx, host.id, providerId)))
    throw new AppError(
      "not_found",
      "PROVIDER_NOT_ON_HOST",
      `${providerId} was never imported on ${host.name}`,
    );
  return host;
}

/** The policy of a provider on a host: its mode, thresholds, health, every watched account, the recent events. */
export async function policyStatus(
  ctx: AppContext,
  input: { hostRef: string; providerId: string },
): Promise<PolicyView> {
  const host = await target(ctx, input.hostRef, input.providerId);
  const p = await getPolicy(ctx, host.id, input.providerId);
  return {
    host_id: host.id,
    host_name: host.name,
    provider_id: input.providerId,
    mode: p.enforce ? "enforce" : "observe",
    fail_after: p.failAfter,
    resume_after: p.resumeAfter,
    floor: p.floor,
    health: p.health,
    health_reason: p.healthReason,
    health_changed_at: p.healthChangedAt,
    accounts: (await accountStates(ctx, host.id, input.providerId)).map((a) => ({
      account_id: a.accountId,
      name: a.name,
      fail_streak: a.failStreak,
      pass_streak: a.passStreak,
      resumes: a.resumes,
      latched: a.latch !== null,
      latch_reason: a.latch?.reason ?? null,
      latched_at: a.latch?.at ?? null,
      last_action: a.lastAction,
    })),
    events: await policyEvents(ctx, host.id, input.providerId),
  };
}

const THRESHOLD = (name: string, v: number | undefined) => {
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 100))
    throw invalidInput("POLICY_THRESHOLD_INVALID", `${name} takes a whole number from 1 to 100`);
};

/** Switches enforcement on or off (observe is the default) and sets the thresholds; an event says who changed what. */
export async function configurePolicy(
  ctx: AppContext,
  input: { hostRef: string; providerId: string; enforce?: boolean; failAfter?: number; resumeAfter?: number },
): Promise<PolicyView> {
  THRESHOLD("--fail-after", input.failAfter);
  THRESHOLD("--resume-after", input.resumeAfter);
  const host = await target(ctx, input.hostRef, input.providerId);
  const p = await setPolicy(ctx, host.id, input.providerId, {
    ...(input.enforce !== undefined ? { enforce: input.enforce } : {}),
    ...(input.failAfter !== undefined ? { failAfter: input.failAfter } : {}),
    ...(input.resumeAfter !== undefined ? { resumeAfter: input.resumeAfter } : {}),
  });
  await appendEvent(ctx, {
    kind: "policy.configured",
    message: `health policy: ${p.enforce ? "enforce" : "observe"}, pause after ${p.failAfter} failed tests, resume after ${p.resumeAfter} passing`,
    hostId: host.id,
    providerId: input.providerId,
    data: { enforce: p.enforce, fail_after: p.failAfter, resume_after: p.resumeAfter },
  });
  return policyStatus(ctx, input);
}

export interface ReleaseResult {
  host_id: string;
  host_name: string;
  provider_id: string;
  resumed: { account_id: number; name: string }[];
  /** Latched accounts someone had already put back, or that the host no longer has. */
  already: { account_id: number; name: string }[];
  failed: { account_id: number; name: string; error: string }[];
}

/**
 * Hands control back: enforcement off, every account relay paused set schedulable again (as a
 * person found it before relay paused it), every latch and streak forgotten. Accounts relay did
 * not pause are not touched. A resume the host refuses keeps its latch, so a second release retries it.
 */
export async function releaseProvider(
  ctx: AppContext,
  input: { hostRef: string; providerId: string },
): Promise<ReleaseResult> {
  const host = await target(ctx, input.hostRef, input.providerId);
  const key = { hostId: host.id, providerId: input.providerId, hostName: host.name };
  return withProviderLock(
    ctx,
    key,
    "enforcement",
    async (held) => {
      await setPolicy(held, host.id, input.providerId, { enforce: false });
      const adapter = await hostAdapterFor(held, host);
      const onHost = new Map(
        (await adapter.listAccounts({ search: `${input.providerId}-` })).map((a) => [a.id, a]),
      );
      const out: ReleaseResult = {
        ...{ host_id: host.id, host_name: host.name, provider_id: input.providerId },
        ...{ resumed: [], already: [], failed: [] },
      };
      for (const s of await accountStates(held, host.id, input.providerId)) {
        const a = onHost.get(s.accountId);
        const who = { account_id: s.accountId, name: s.name };
        if (s.latch && a && !a.schedulable) {
          try {
            await adapter.setAccountSchedulable(s.accountId, true);
            out.resumed.push(who);
          } catch (err) {
            if (!isHostError(err)) throw err;
            out.failed.push({ ...who, error: err.message });
            continue;
          }
        } else if (s.latch) out.already.push(who);
        await forgetAccount(held, host.id, input.providerId, s.accountId);
      }
      await appendEvent(held, {
        kind: "policy.released",
        message: `control handed back: enforcement off, ${out.resumed.length} account(s) relay paused resumed${out.failed.length ? `, ${out.failed.length} refused by the host (latch kept)` : ""}`,
        hostId: host.id,
        providerId: input.providerId,
        data: { resumed: out.resumed.map((r) => r.account_id), failed: out.failed.map((r) => r.account_id) },
      });
      return out;
    },
    ctx.config.leaseMs,
  );
}
