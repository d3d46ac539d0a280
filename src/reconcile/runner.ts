import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import type { HealthState, SyncState } from "../domain/axes.js";
import {
  type DescribedFinding,
  diffResources,
  type Finding,
  type ReconcileOutcome,
  type ReconcileTrigger,
} from "../domain/drift.js";
import { applyIgnoreRules, type IgnoredDifference } from "../domain/drift-ignore.js";
import { AppError } from "../domain/errors.js";
import { describeFindings } from "../domain/next-steps.js";
import { formatRetest, pickRetests, type RetestPolicy, SCHEDULED_RETEST } from "../domain/retest.js";
import { reconcileOutcome } from "../domain/status.js";
import type { HostAccount } from "../host/sub2api/index.js";
import { runAccessProbe } from "../steps/access-proof.js";
import { callHost } from "../steps/host-call.js";
import { latchedIds } from "../store/health.js";
import { findHost, latestCapabilities, listHostRows } from "../store/hosts.js";
import {
  getInstall,
  type InstallRow,
  listInstalls,
  markReconciled,
  refreshProviderState,
} from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import { migratedMappings } from "../store/mapping-changes.js";
import { getProviderDefinition } from "../store/packs.js";
import { accountsFailingBefore, discardRun, finishRun, openRun } from "../store/reconcile-runs.js";
import { liveResources } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import { mapLimit } from "../util/concurrency.js";
import { heal } from "./heal.js";
import { HostPass } from "./host-pass.js";
import { compatibility, expectations, liveAccountsOf, observe, upstreamModelFindings } from "./observe.js";
import { resolveLostCreates } from "./resolve.js";
import { retest, type TestOutcomes } from "./retest.js";

export interface ReconcileOptions {
  trigger: ReconcileTrigger;
  /** Opt-in repairs that need no plaintext key: re-bind accounts, re-assign subscriptions, re-create a channel. */
  heal?: boolean;
  /** Which accounts to re-test; default `all`, and `sample:5` for scheduled runs. */
  retest?: RetestPolicy;
  testConcurrency?: number;
  /** A pass over all providers of the host: list calls and the probe login shared (reconcileAll). */
  pass?: HostPass;
  /** Handed each provider's account tests of this run (the health policy counts them, src/policy/). */
  onTested?: (hostId: string, providerId: string, tests: TestOutcomes, accounts: HostAccount[]) => void;
}

export interface ReconcileResult {
  run_id: number;
  host_id: string;
  host_name: string;
  provider_id: string;
  outcome: ReconcileOutcome;
  previous_status: string | null;
  new_status: string | null;
  reason: string;
  access_state: string | null;
  /** The two axes after the run (docs/operations.md); null when the run failed or was skipped. */
  health: HealthState | null;
  sync: SyncState | null;
  findings: DescribedFinding[];
  /** Differences an ignore rule (RELAY_DRIFT_IGNORE) hid: not findings, but never hidden silently. */
  ignored: IgnoredDifference[];
  healed: string[];
  /** The re-test policy applied and how many accounts it tested. */
  retest: { policy: string; tested: number };
  host_calls: number;
  duration_ms: number;
}

interface Run {
  ctx: AppContext;
  host: HostRow;
  install: InstallRow;
  options: ReconcileOptions;
  runId: number;
  started: number;
  calls: number;
  policy: RetestPolicy;
  tested: number;
  ignored: IgnoredDifference[];
}

/**
 * One reconcile of a provider on a host (design §7): list the host's resources (a few paged list
 * calls), compare with the records, re-test the accounts, re-prove access, record the run; the
 * provider's status is then recomputed from the findings. Drift is reported, not healed, unless
 * `heal` is asked for.
 */
export async function reconcileProvider(
  ctx: AppContext,
  input: { hostRef: string; providerId: string },
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const host = await findHost(ctx, input.hostRef);
  const install = await getInstall(ctx, host.id, input.providerId);
  if (!install)
    throw new AppError(
      "not_found",
      "PROVIDER_NOT_ON_HOST",
      `${input.providerId} was never imported on ${host.name}`,
    );
  const runId = await openRun(ctx, {
    hostId: host.id,
    providerId: input.providerId,
    trigger: options.trigger,
    previousStatus: install.status,
  });
  const run: Run = {
    ...{ ctx, host, install, options, runId },
    ...{ started: Date.now(), calls: 0, policy: retestPolicy(options), tested: 0, ignored: [] },
  };
  if (install.status === "disabled")
    return await finish(run, "skipped", [], [], "provider is disabled on this host", null);
  const key = { hostId: host.id, providerId: input.providerId, hostName: host.name };
  try {
    return await withProviderLock(
      ctx,
      key,
      "reconcile",
      (held) => reconcileLocked({ ...run, ctx: held }),
      ctx.config.leaseMs,
    );
  } catch (err) {
    if (err instanceof AppError && err.code === "PROVIDER_BUSY") {
      if (options.trigger === "schedule")
        return await finish(
          run,
          "skipped",
          [],
          [],
          "an import, rollback or reconcile of this provider is running",
          null,
        );
      await discardRun(ctx, runId);
    }
    throw err;
  }
}

function retestPolicy(options: ReconcileOptions): RetestPolicy {
  return options.retest ?? (options.trigger === "schedule" ? SCHEDULED_RETEST : { kind: "all" });
}

async function reconcileLocked(run: Run): Promise<ReconcileResult> {
  const { ctx, host, install } = run;
  return await callHost(host, async () => {
    try {
      const { definition: def, versionRange } = await getProviderDefinition(ctx, install.providerId);
      const caps = await latestCapabilities(ctx, host.id);
      const findings = compatibility(host, install.providerId, versionRange);
      const counting: AppContext = {
        ...ctx,
        hostAdapter: (o) => ctx.hostAdapter({ ...o, onCall: () => (run.calls += 1) }),
      };
      const adapter = await hostAdapterFor(counting, host);
      const live = await liveResources(ctx, host.id, install.providerId);
      const rows = live.filter((r) => r.hostResourceId !== null);
      const observed =
        (await run.options.pass?.observe(adapter, install.providerId, caps, rows)) ??
        (await observe(adapter, install.providerId, caps, rows));
      const differences = diffResources(
        { installId: ctx.installId, providerId: install.providerId },
        expectations(
          rows,
          def,
          { version: host.version, caps },
          ctx.installId,
          await latchedIds(ctx, host.id, install.providerId),
          await migratedMappings(ctx, host.id, install.providerId),
        ),
        observed,
        ctx.clock().getTime(),
      );
      const { kept, ignored } = applyIgnoreRules(ctx.config.driftIgnore, install.providerId, differences);
      findings.push(...kept);
      run.ignored = ignored;
      // A create whose answer was lost is settled always (its record says what it was for);
      // drift the operator did not ask relay to make is repaired only with --heal.
      const where = { hostId: host.id, providerId: install.providerId, observed };
      const settled = await resolveLostCreates(ctx, adapter, where, findings);
      const repaired = run.options.heal
        ? await heal({ ctx, adapter, def, caps, version: host.version, rows, hostId: host.id }, findings)
        : [];
      ctx.metrics.heals.inc(findings.filter((f) => f.healed).length);
      const healed = [...settled, ...repaired];
      const present = new Set(observed.accounts.map((a) => a.id));
      const accounts = pickRetests(
        rows.filter((r) => r.resourceType === "account" && present.has(r.hostResourceId as number)),
        (r) => r.hostResourceId as number,
        await accountsFailingBefore(ctx, host.id, install.providerId, run.runId),
        run.policy,
      );
      run.tested = accounts.length;
      // The re-tests and the gateway proof are independent: they run side by side.
      const accessFindings: Finding[] = [];
      const outcomes: TestOutcomes = new Map();
      const [tested, access, models] = await Promise.all([
        retest(adapter, def, accounts, run.options.testConcurrency ?? ctx.config.hostConcurrency, outcomes),
        reprove(counting, host.id, install.providerId, accessFindings, run.options.pass),
        upstreamModelFindings(adapter, def, { version: host.version, caps }, liveAccountsOf(rows, observed)),
      ]);
      run.options.onTested?.(host.id, install.providerId, outcomes, observed.accounts);
      findings.push(...tested, ...accessFindings, ...models);
      return await finish(run, "ok", findings, healed, "", access);
    } catch (err) {
      await finish(run, "error", [], [], err instanceof Error ? err.message : String(err), null);
      throw err;
    }
  });
}

/** Re-proves access through the gateway; a broken or failed proof is a finding. */
async function reprove(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  findings: Finding[],
  pass: HostPass | undefined,
) {
  const broken = (message: string) =>
    findings.push({
      kind: "access_broken",
      resource_type: "access",
      name: providerId,
      host_resource_id: null,
      message,
    });
  try {
    const a = await runAccessProbe(ctx, { hostRef: hostId, providerId }, pass?.probe);
    // The derived reason already names the failed call's code (domain/access.ts deriveAccessState).
    if (a.access_state === "broken") broken(`access broken: ${a.reason}`);
    return a.access_state;
  } catch (err) {
    broken(`access probe failed: ${(err as Error).message}`);
    return null;
  }
}

/** Records the run, recomputes the provider's status from it, and counts it in the metrics. */
async function finish(
  run: Run,
  outcome: ReconcileOutcome,
  findings: Finding[],
  healed: string[],
  reason: string,
  access: string | null,
): Promise<ReconcileResult> {
  const { ctx, host, install } = run;
  const durationMs = Date.now() - run.started;
  const record = (o: ReconcileOutcome, status: string | null) =>
    finishRun(ctx, run.runId, { outcome: o, newStatus: status, findings, hostCalls: run.calls, durationMs });
  let status: string | null = (await getInstall(ctx, host.id, install.providerId))?.status ?? null;
  let axes: { health: HealthState; sync: SyncState } | null = null;
  if (outcome === "ok") {
    // The run's findings are facts the status is decided from: record them, then decide.
    await record(outcome, status);
    const next = await refreshProviderState(ctx, host.id, install.providerId);
    outcome = reconcileOutcome(next);
    axes = { health: next.health.state, sync: next.sync.state };
    status = next.status;
    reason = next.reason;
  }
  await record(outcome, status);
  if (outcome !== "skipped") await markReconciled(ctx, host.id, install.providerId);
  ctx.metrics.reconcileRuns.inc({ trigger: run.options.trigger, outcome });
  ctx.logger.info(
    {
      run_id: run.runId,
      host: host.name,
      provider_id: install.providerId,
      trigger: run.options.trigger,
      outcome,
      findings: findings.length,
      host_calls: run.calls,
    },
    "reconcile finished",
  );
  ctx.metrics.reconcileSeconds.observe(durationMs / 1000);
  for (const f of findings) ctx.metrics.findings.inc({ kind: f.kind });
  return {
    run_id: run.runId,
    host_id: host.id,
    host_name: host.name,
    provider_id: install.providerId,
    outcome,
    previous_status: install.status,
    new_status: status,
    reason,
    access_state: access,
    ...(axes ?? { health: null, sync: null }),
    findings: describeFindings(findings, { providerId: install.providerId, hostName: host.name }),
    ignored: run.ignored,
    healed,
    retest: { policy: formatRetest(run.policy), tested: run.tested },
    host_calls: run.calls,
    duration_ms: durationMs,
  };
}

/** Every (host, provider) not disabled — on one host when `hostRef` is given — for `--all` and the scheduler. */
export async function reconcileTargets(
  ctx: AppContext,
  hostRef?: string,
): Promise<{ hostId: string; hostName: string; providerId: string }[]> {
  const only = hostRef === undefined ? undefined : await findHost(ctx, hostRef);
  const names = new Map((await listHostRows(ctx)).map((h) => [h.id, h.name]));
  return (await listInstalls(ctx))
    .filter((r) => r.status !== "disabled" && (only === undefined || r.hostId === only.id))
    .map(({ hostId, providerId }) => ({ hostId, hostName: names.get(hostId) ?? hostId, providerId }));
}

/**
 * Every provider of every host, host by host: each host gets one pass (shared list calls, one
 * probe login), its providers reconciled `concurrency` at a time, their re-tests bounded together
 * by the host's adaptive limit. Hosts run side by side.
 */
export async function reconcileAll(
  ctx: AppContext,
  options: ReconcileOptions & {
    concurrency?: number;
    hostRef?: string;
    /** Called as each provider's run ends (progress for the CLI). */
    onResult?: (r: ReconcileResult) => void;
  },
): Promise<ReconcileResult[]> {
  const byHost = new Map<string, Awaited<ReturnType<typeof reconcileTargets>>>();
  for (const t of await reconcileTargets(ctx, options.hostRef))
    byHost.set(t.hostId, [...(byHost.get(t.hostId) ?? []), t]);
  const perHost = await mapLimit([...byHost], 4, ([hostId, targets]) => {
    const pass = new HostPass(ctx, hostId);
    return mapLimit(targets, options.concurrency ?? 8, async (t) => {
      const r = await reconcileOrReport(ctx, t, { ...options, pass });
      options.onResult?.(r);
      return r;
    });
  });
  return perHost.flat();
}

async function reconcileOrReport(
  ctx: AppContext,
  t: { hostId: string; hostName: string; providerId: string },
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  try {
    return await reconcileProvider(ctx, { hostRef: t.hostId, providerId: t.providerId }, options);
  } catch (err) {
    // One short line per failure (a cron run mails its stderr); the stack and causes only at debug.
    const code = err instanceof AppError ? err.code : "INTERNAL";
    const reason = err instanceof Error ? err.message : String(err);
    ctx.logger.error({ host: t.hostName, provider_id: t.providerId, code, reason }, "reconcile failed");
    ctx.logger.debug({ err, host: t.hostName, provider_id: t.providerId }, "reconcile failed (details)");
    return {
      run_id: 0,
      host_id: t.hostId,
      host_name: t.hostName,
      provider_id: t.providerId,
      outcome: "error" as const,
      previous_status: null,
      new_status: null,
      reason: err instanceof Error ? err.message : String(err),
      ...{ access_state: null, health: null, sync: null },
      findings: [],
      ignored: [],
      healed: [],
      retest: { policy: formatRetest(retestPolicy(options)), tested: 0 },
      host_calls: 0,
      duration_ms: 0,
    };
  }
}
