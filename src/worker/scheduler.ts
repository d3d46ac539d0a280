import { Cron } from "croner";
import type { AppContext } from "../app/context.js";
import { type ReconcileResult, reconcileAll } from "../reconcile/runner.js";

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

/** `protect: true`: a tick that is still running when the next is due makes the next one wait. */
export function startScheduler(ctx: AppContext, cron: string, jitterMs: number): Cron {
  return new Cron(
    cron,
    { protect: true, catch: (err) => ctx.logger.error({ err }, "scheduled reconcile failed") },
    async () => {
      await runReconcileTick(ctx, { jitterMs });
    },
  );
}
