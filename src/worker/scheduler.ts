import { Cron } from "croner";
import type { AppContext } from "../app/context.js";
import { AppError } from "../domain/errors.js";
import { checkHost } from "../hosts/hosts.js";
import { recoverBatches } from "../provision/recover.js";
import { type ReconcileResult, reconcileAll } from "../reconcile/runner.js";
import { listHostRows } from "../store/hosts.js";
import { claimTick, holdSchedulerLease, releaseSchedulerLease, schedulerOwner } from "../store/locks.js";
import { mapLimit } from "../util/concurrency.js";

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
  await probeHosts(ctx);
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

/**
 * Each tick probes every host first (one version read, `checkHost`): a host that stopped answering
 * is unreachable from this tick on in every view, and one that answers again is back.
 */
async function probeHosts(ctx: AppContext): Promise<void> {
  await mapLimit(await listHostRows(ctx), 4, async (host) => {
    try {
      await checkHost(ctx, host.id);
    } catch (err) {
      const code = err instanceof AppError ? err.code : "INTERNAL";
      ctx.logger.warn({ host: host.name, code, reason: (err as Error).message }, "scheduled probe failed");
    }
  });
}

/**
 * Finishing batches another process left when it died (their leases lapsed), by the rules of
 * `relay batch recover`, one run at a time; a batch whose holder is alive is left alone.
 */
function batchRecovery(ctx: AppContext): {
  run: () => Promise<void>;
  running: () => Promise<void> | undefined;
} {
  let recovering: Promise<void> | undefined;
  const run = () => {
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
  return { run, running: () => recovering };
}

export interface Scheduler {
  nextRun(): Date | null;
  /** Whether this process holds the scheduler lease (runs the ticks) right now. */
  isLeader(): boolean;
  /**
   * Starts no tick from now on; resolves once the tick or recovery running now has finished, then
   * gives up the scheduler lease (a caller with a deadline stops waiting at it).
   */
  stop(): Promise<void>;
}

/**
 * The reconcile schedule of one `relay serve`. Several replicas may share the database: the one
 * holding the scheduler lease (renewed every third of its TTL) runs the ticks, and each tick is
 * claimed by its planned time, so a schedule ticks once per period in total, not once per
 * replica. When the leader dies its lease lapses (at once if its process is gone from this
 * machine) and the next replica to renew takes over. `protect: true`: a tick still running when
 * the next is due makes the next one wait.
 */
export async function startScheduler(
  ctx: AppContext,
  cron: string,
  jitterMs: number,
  leaseTtlMs = Math.max(30_000, 3 * jitterMs),
): Promise<Scheduler> {
  const owner = schedulerOwner("scheduler");
  let leader = await holdSchedulerLease(ctx, owner, leaseTtlMs);
  // The leader also finishes batches another process left when it died (their leases lapsed), by
  // the rules of `relay batch recover`; a batch whose holder is alive is left alone. Before each
  // tick too, so a scheduled reconcile never holds the provider ahead of its recovery.
  const recovery = batchRecovery(ctx);
  const recoverLeft = recovery.run;
  // The heartbeat never throws: with the database away (a restart, the network) this replica
  // stops leading — it cannot prove it holds the lease — and asks again, sooner at first, then at
  // the usual pace, until the database answers. /readyz says the database is unavailable meanwhile.
  const beatMs = Math.max(100, Math.min(5_000, Math.floor(leaseTtlMs / 3)));
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ticking: Promise<void> | undefined;
  const renewLeadership = async (): Promise<boolean> => {
    const was = leader;
    try {
      leader = await holdSchedulerLease(ctx, owner, leaseTtlMs);
      if (failures > 0) ctx.logger.info({ failures }, "the database answers again");
      failures = 0;
    } catch (err) {
      failures += 1;
      leader = false;
      ctx.logger.warn({ err, failures }, "scheduler heartbeat failed: the database is unavailable");
    }
    if (leader !== was)
      ctx.logger.info(
        { leader },
        leader ? "this replica now leads the scheduler" : "scheduler leadership lost",
      );
    return leader;
  };
  // The beat in flight (renewing is a round trip): `stop` waits for it before releasing the lease.
  let beating: Promise<void> | undefined;
  const beat = async () => {
    if ((await renewLeadership()) && !stopped) void recoverLeft();
    if (stopped) return;
    timer = setTimeout(
      schedule,
      failures === 0 ? beatMs : Math.min(beatMs, 100 * 2 ** Math.min(failures, 10)),
    );
    timer.unref();
  };
  const schedule = () => {
    beating = beat().finally(() => {
      beating = undefined;
    });
  };
  timer = setTimeout(schedule, beatMs);
  timer.unref();
  const job = new Cron(
    cron,
    { protect: true, catch: (err) => ctx.logger.error({ err }, "scheduled reconcile failed") },
    async (self: Cron) => {
      if (stopped) return;
      await renewLeadership();
      const slot = (self.currentRun() ?? new Date()).toISOString();
      if (!leader || !(await claimTick(ctx, slot))) return;
      ctx.metrics.schedulerTicks.inc();
      ticking = (async () => {
        await recoverLeft();
        await runReconcileTick(ctx, { jitterMs });
      })();
      try {
        await ticking;
      } finally {
        ticking = undefined;
      }
    },
  );
  return {
    nextRun: () => job.nextRun(),
    isLeader: () => leader,
    async stop() {
      stopped = true;
      job.stop();
      clearTimeout(timer);
      await Promise.allSettled([beating, ticking, recovery.running()]);
      try {
        await releaseSchedulerLease(ctx, owner);
      } catch (err) {
        // Unreleased, the lease lapses at its expiry; the next replica takes over then.
        ctx.logger.warn({ err }, "could not release the scheduler lease");
      }
    },
  };
}
