import { sendAlerts } from "../alerts/send.js";
import type { AppContext } from "../app/context.js";
import { AppError } from "../domain/errors.js";
import type { HostAccount } from "../host/sub2api/index.js";
import { type PolicyRunResult, runHealthPolicy, type TestOutcome } from "./run.js";
import { syncAlert } from "./transitions.js";

/** What a reconcile pass hands the policy: its results and the tests it made, per host and provider. */
export interface ReconciledProvider {
  host_id: string;
  host_name: string;
  provider_id: string;
  outcome: string;
  previous_status: string | null;
  new_status: string | null;
  reason: string;
}

export interface PolicyPassItem {
  host_id: string;
  host_name: string;
  provider_id: string;
  result?: PolicyRunResult;
  /** Why the policy did not run for it (the reconcile failed or was skipped, or the provider was busy). */
  skipped?: string;
}

/** What a reconcile saw of one provider: its tests, and the accounts as it listed them. */
export interface Seen {
  tests: ReadonlyMap<number, TestOutcome>;
  accounts: HostAccount[];
}

/** Collects the reconcile's tests and account list for `runPolicyPass` (ReconcileOptions.onTested). */
export function testCollector() {
  const tests = new Map<string, Seen>();
  return {
    tests,
    onTested: (hostId: string, providerId: string, t: Map<number, TestOutcome>, accounts: HostAccount[]) =>
      tests.set(`${hostId}\u0000${providerId}`, { tests: t, accounts }),
  };
}

/**
 * After a reconcile pass (the scheduler's tick, `relay reconcile run --enforce`): the sync alerts
 * for providers whose status changed, then the health policy of each provider the reconcile
 * reached, fed with the tests it made — observe mode unless enforcement is on for that provider.
 */
export async function runPolicyPass(
  ctx: AppContext,
  reconciled: ReconciledProvider[],
  tests: ReadonlyMap<string, Seen>,
): Promise<PolicyPassItem[]> {
  const at = ctx.clock().toISOString();
  const sync = reconciled.map((r) => syncAlert(r, at)).filter((a) => a !== null);
  if (sync.length > 0) await sendAlerts(ctx, sync);
  const out: PolicyPassItem[] = [];
  for (const r of reconciled) {
    const item = { host_id: r.host_id, host_name: r.host_name, provider_id: r.provider_id };
    if (r.outcome === "error" || r.outcome === "skipped") {
      out.push({ ...item, skipped: `the reconcile ${r.outcome === "error" ? "failed" : "was skipped"}` });
      continue;
    }
    const given = tests.get(`${r.host_id}\u0000${r.provider_id}`);
    try {
      const result = await runHealthPolicy(ctx, {
        hostRef: r.host_id,
        providerId: r.provider_id,
        ...(given ? { tests: given.tests, accounts: given.accounts } : {}),
      });
      out.push({ ...item, result });
    } catch (err) {
      // One provider's policy failing (busy, host unreachable) never stops the others.
      const code = err instanceof AppError ? err.code : "INTERNAL";
      const message = err instanceof Error ? err.message : String(err);
      ctx.logger.warn(
        { host: r.host_name, provider_id: r.provider_id, code, message },
        "health policy not run",
      );
      out.push({ ...item, skipped: message });
    }
  }
  return out;
}
