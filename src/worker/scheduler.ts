import { Cron } from "croner";
import type { AppContext } from "../app/context.js";
import { recoverBatches } from "../provision/recover.js";
import { type ReconcileResult, reconcileAll } from "../reconcile/runner.js";
import { claimTick, holdSchedulerLease, releaseSchedulerLease, schedulerOwner } from "../store/locks.js";

/**
 * One scheduled reconcile of every provider on every host. Exported so tests call it directly;
 * the per-provider lease keeps it from overlapping an import or another reconcile of the same
 * provider (those providers are skipped this time).
 */
export async function runReconcileTick(
  ctx: AppContext,
  options: { jitterMs?: number } = {},
): Promise<ReconcileResult[]> {
  const jitter = Math.floor(Math.random() * (options.jitterMs ?? 0));
  if (jitter > 0) await new Promise((r) => setTimeout(r, jitter));
  const results = await reconcileAll(ctx, { trigger: "schedule" });
  for (const r of results) {
    const level = r.outcome === "ok" || r.outcome === "skipped" ? "info" : "warn";
    ctx.logger[level](
      {
        host_id: r.host_id,
        provider_id: r.provider_id,
        outcome: r.outcome,
        status: r.new_status,
        findings: r.findings.length,
      },
      "scheduled reconcile",
    );
  }
  return results;
}

export interface Scheduler {
  nextRun(): Date | null;
  /** Whether this process holds the scheduler lease (runs the ticks) right now. */
  isLeader(): boolean;
  stop(): void;
}

/**
 * The reconcile schedule of one `relay serve`. Several replicas may share the database: the one
 * holding the scheduler lease (renewed every third of its TTL) runs the ticks, and each tick is
 * claimed by its planned time, so a schedule ticks once per period in total, not once per
 * replica. When the leader dies its lease lapses (at once if its process is gone from this
 * machine) and the next replica to renew takes over. `protect: true`: a tick still running when
 * the next is due makes the next one wait.
 */
export function startScheduler(
  ctx: AppContext,
  cron: string,
  jitterMs: number,
  leaseTtlMs = Math.max(30_000, 3 * jitterMs),
): Scheduler {
  const owner = schedulerOwner("scheduler");
  let leader = holdSchedulerLease(ctx, owner, leaseTtlMs);
  // The leader also finishes batches another process left when it died (their leases lapsed), by
  // the rules of `relay batch recover`; a batch whose holder is alive is left alone. Before each
  // tick too, so a scheduled reconcile never holds the provider ahead of its recovery.
  let recovering: Promise<void> | undefined;
  const recoverLeft = () => {
    recovering ??= recoverBatches(ctx)
      .then((outcomes) => {
        for (const o of outcomes.filter((x) => x.action !== "skipped_live"))
          ctx.logger.warn({ ...o }, "recovered a batch another process left");
      })
      .catch((err) => ctx.logger.error({ err }, "batch recovery failed"))
      .finally(() => {
        recovering = undefined;
      });
    return recovering;
  };
  const heartbeat = setInterval(
    () => {
      const was = leader;
      leader = holdSchedulerLease(ctx, owner, leaseTtlMs);
      if (leader !== was)
        ctx.logger.info(
          { leader },
          leader ? "this replica now leads the scheduler" : "scheduler leadership lost",
        );
      if (leader) void recoverLeft();
    },
    Math.max(100, Math.min(5_000, Math.floor(leaseTtlMs / 3))),
  );
  heartbeat.unref();
  const job = new Cron(
    cron,
    { protect: true, catch: (err) => ctx.logger.error({ err }, "scheduled reconcile failed") },
    async (self: Cron) => {
      leader = holdSchedulerLease(ctx, owner, leaseTtlMs);
      const slot = (self.currentRun() ?? new Date()).toISOString();
      if (!leader || !claimTick(ctx, slot)) return;
      ctx.metrics.schedulerTicks.inc();
      await recoverLeft();
      await runReconcileTick(ctx, { jitterMs });
    },
  );
  return {
    nextRun: () => job.nextRun(),
    isLeader: () => leader,
    stop() {
      job.stop();
      clearInterval(heartbeat);
      releaseSchedulerLease(ctx, owner);
    },
  };
}
