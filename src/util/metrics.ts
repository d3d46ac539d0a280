import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one process (a registry per context, so tests never share counters). */
export class Metrics {
  readonly registry = new Registry();
  readonly hostCalls = new Counter({
    name: "relay_host_calls_total",
    help: "Calls to sub2api hosts by operation and outcome",
    labelNames: ["host", "operation", "outcome"] as const,
    registers: [this.registry],
  });
  readonly hostCallSeconds = new Histogram({
    name: "relay_host_call_duration_seconds",
    help: "Duration of calls to sub2api hosts (retries included)",
    labelNames: ["host", "operation", "outcome"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 90],
    registers: [this.registry],
  });
  readonly reconcileRuns = new Counter({
    name: "relay_reconcile_runs_total",
    help: "Reconcile runs by trigger and outcome",
    labelNames: ["trigger", "outcome"] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "relay_reconcile_duration_seconds",
    help: "Duration of one reconcile of a provider on a host",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly findings = new Counter({
    name: "relay_reconcile_findings_total",
    help: "Reconcile findings by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly imports = new Counter({
    name: "relay_imports_total",
    help: "Imports by final batch status",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  readonly importSeconds = new Histogram({
    name: "relay_import_duration_seconds",
    help: "Duration of one import, from plan to final status",
    buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });
  readonly keys = new Gauge({
    name: "relay_keys",
    help: "Keys of the latest import of a provider on a host, by class (ready, revoked, balance_empty, wrong_region, rate_limited, unknown)",
    labelNames: ["host", "provider", "class"] as const,
    registers: [this.registry],
  });
  readonly accountBalance = new Gauge({
    name: "relay_account_balance",
    help: "Lowest provider balance among a provider's relay accounts on a host, per currency, as the host last read it (Kimi and DeepSeek pay-as-you-go, sub2api 0.1.178+)",
    labelNames: ["host", "provider", "currency"] as const,
    registers: [this.registry],
  });
  readonly rollbacks = new Counter({
    name: "relay_rollbacks_total",
    help: "Rollbacks by outcome (rolled_back, incomplete)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly schedulerTicks = new Counter({
    name: "relay_scheduler_ticks_total",
    help: "Scheduled reconcile ticks this replica ran (one replica runs each tick)",
    registers: [this.registry],
  });
  readonly heals = new Counter({
    name: "relay_heals_total",
    help: "Repairs made by reconcile --heal",
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: "relay_alerts_total",
    help: "Alert deliveries to webhooks by format and outcome (sent, failed after its retries)",
    labelNames: ["format", "outcome"] as const,
    registers: [this.registry],
  });
  readonly rotations = new Counter({
    name: "relay_rotations_total",
    help: "Accounts of key rotations by outcome (rotated: on the new key; restored: the new key failed, the old one is back; failed)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly policyActions = new Counter({
    name: "relay_policy_actions_total",
    help: "Health policy decisions by action (pause, resume, floor_held, held_back, …) and mode (enforce, observe)",
    labelNames: ["action", "mode"] as const,
    registers: [this.registry],
  });
  readonly providerStatus: Gauge<"host" | "provider" | "status">;
  readonly #axes: Gauge[];
  readonly #lastRuns: Gauge<"host">;
  readonly #lastSuccesses: Gauge<"host">;
  readonly #buildInfo: Gauge<"version" | "node">;

  constructor(
    sources: MetricSources = {},
    build: { version: string; processMetrics?: boolean } = { version: "unknown" },
  ) {
    const providerStatuses = sources.providerStatuses ?? (async () => []);
    const reconcileTimes = sources.reconcileTimes ?? (async () => []);
    const axes = sources.axes ?? (async () => ({ providers: [], hosts: [] }));
    // Process metrics (CPU, memory, event loop, handles) describe a long-running server: only
    // `relay serve` asks for them (a CLI command, or its --metrics-file, would report a process
    // that is about to exit, and would pay for the collectors at every start).
    if (build.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.#buildInfo = new Gauge({
      name: "relay_build_info",
      help: "1, labelled with the running relay version and Node.js version",
      labelNames: ["version", "node"] as const,
      registers: [this.registry],
    });
    this.#buildInfo.set({ version: build.version, node: process.versions.node }, 1);
    // From relay's records, not this process's memory: a cron run's textfile knows when a host
    // last succeeded even when this run failed on it.
    const times = (pick: "lastRun" | "lastSuccess") =>
      async function (this: Gauge<"host">) {
        // Read before the reset: a scrape never sees the gauge empty while the store answers.
        const rows = await reconcileTimes();
        this.reset();
        for (const t of rows) {
          const at = t[pick];
          if (at !== null) this.set({ host: t.host }, at / 1000);
        }
      };
    this.#lastRuns = new Gauge({
      name: "relay_reconcile_last_run_timestamp_seconds",
      help: "When the last reconcile of a provider on the host finished (any outcome but skipped), Unix time",
      labelNames: ["host"] as const,
      registers: [this.registry],
      collect: times("lastRun"),
    });
    this.#lastSuccesses = new Gauge({
      name: "relay_reconcile_last_success_timestamp_seconds",
      help: "When the last reconcile on the host finished without an error (ok, drift or degraded), Unix time",
      labelNames: ["host"] as const,
      registers: [this.registry],
      collect: times("lastSuccess"),
    });
    const paused = sources.pausedByRelay ?? (async () => []);
    new Gauge({
      name: "relay_policy_paused_accounts",
      help: "Accounts relay's health policy paused and holds (its latches), per host and provider",
      labelNames: ["host", "provider"] as const,
      registers: [this.registry],
      async collect() {
        const rows = await paused();
        this.reset();
        for (const p of rows) this.set({ host: p.host, provider: p.provider }, p.count);
      },
    });
    this.providerStatus = new Gauge({
      name: "relay_provider_status",
      help: "1 for the current status of each provider on each host",
      labelNames: ["host", "provider", "status"] as const,
      registers: [this.registry],
      async collect() {
        const rows = await providerStatuses();
        this.reset();
        for (const p of rows) this.set({ host: p.host, provider: p.provider, status: p.status }, 1);
      },
    });
    this.#axes = axisGauges(this.registry, axes);
  }

  /**
   * A one-shot run's metrics for node_exporter's textfile collector: gauges only. A counter in a
   * file a new process rewrites every run restarts at each run, so per-run counts are gauges of
   * this run, beside the provider statuses and the last run and success times from the records.
   */
  async textfile(run: RunSummary): Promise<string> {
    const registry = new Registry();
    for (const m of [
      this.#buildInfo,
      this.providerStatus,
      ...this.#axes,
      this.#lastRuns,
      this.#lastSuccesses,
    ])
      registry.registerMetric(m);
    const providers = new Gauge({
      name: "relay_reconcile_run_providers",
      help: "Providers reconciled by this run, by host and outcome",
      labelNames: ["host", "outcome"] as const,
      registers: [registry],
    });
    const findings = new Gauge({
      name: "relay_reconcile_run_findings",
      help: "Findings of this run that were not healed, by host and kind",
      labelNames: ["host", "kind"] as const,
      registers: [registry],
    });
    const seconds = new Gauge({
      name: "relay_reconcile_run_duration_seconds",
      help: "Wall time of this run's reconciles, by host (sum over its providers)",
      labelNames: ["host"] as const,
      registers: [registry],
    });
    const calls = new Gauge({
      name: "relay_reconcile_run_host_calls",
      help: "Calls this run made to the host",
      labelNames: ["host"] as const,
      registers: [registry],
    });
    new Gauge({
      name: "relay_reconcile_exit_code",
      help: "Exit code of this run: 0 all good, 2 drift or degradation, 1 error (docs/operations.md)",
      registers: [registry],
    }).set(run.exitCode);
    new Gauge({
      name: "relay_reconcile_run_timestamp_seconds",
      help: "When this run finished, Unix time",
      registers: [registry],
    }).set(run.finishedAt / 1000);
    for (const r of run.results) {
      providers.inc({ host: r.host, outcome: r.outcome });
      seconds.inc({ host: r.host }, r.durationMs / 1000);
      calls.inc({ host: r.host }, r.hostCalls);
      for (const kind of r.findings) findings.inc({ host: r.host, kind });
    }
    return registry.metrics();
  }
}

/** Both axes per provider and host, and each host's reachability (docs/operations.md). */
function axisGauges(registry: Registry, axes: NonNullable<MetricSources["axes"]>): Gauge[] {
  // One read of the records per scrape: a registry starts collecting its metrics in one
  // synchronous pass (each metric's collect is called before any of them awaits), so the three
  // gauges share the read the first one started, and the next scrape reads afresh.
  let shared: ReturnType<typeof axes> | undefined;
  const read = () => {
    if (!shared) {
      shared = axes();
      queueMicrotask(() => {
        shared = undefined;
      });
    }
    return shared;
  };
  const health = new Gauge({
    name: "relay_provider_health",
    help: "1 for the current health of each provider on each host (healthy, degraded, down, unknown)",
    labelNames: ["host", "provider", "health"] as const,
    registers: [registry],
    async collect() {
      const { providers } = await read();
      this.reset();
      for (const p of providers) this.set({ host: p.host, provider: p.provider, health: p.health }, 1);
    },
  });
  const sync = new Gauge({
    name: "relay_provider_sync",
    help: "1 for the current sync state of each provider on each host (in_sync, out_of_sync, unknown)",
    labelNames: ["host", "provider", "sync"] as const,
    registers: [registry],
    async collect() {
      const { providers } = await read();
      this.reset();
      for (const p of providers) this.set({ host: p.host, provider: p.provider, sync: p.sync }, 1);
    },
  });
  const reachable = new Gauge({
    name: "relay_host_reachable",
    help: "1 when the host answered its newest probe, 0 when it did not (absent: never probed)",
    labelNames: ["host"] as const,
    registers: [registry],
    async collect() {
      const { hosts } = await read();
      this.reset();
      for (const h of hosts)
        if (h.reachable !== "unknown") this.set({ host: h.host }, h.reachable === "yes" ? 1 : 0);
    },
  });
  return [health, sync, reachable] as Gauge[];
}

export interface MetricSources {
  /** Per install: host name, provider, health and sync; per host: reachable (yes, no, unknown). */
  axes?: () => Promise<{
    providers: { host: string; provider: string; health: string; sync: string }[];
    hosts: { host: string; reachable: string }[];
  }>;
  /** host name, provider, status of every install: `relay_provider_status`. */
  providerStatuses?: () => Promise<{ host: string; provider: string; status: string }[]>;
  /** Per host name, when its last reconcile finished and its last successful one (ms since epoch). */
  reconcileTimes?: () => Promise<{ host: string; lastRun: number | null; lastSuccess: number | null }[]>;
  /** Accounts held by relay's latches, per host name and provider: `relay_policy_paused_accounts`. */
  pausedByRelay?: () => Promise<{ host: string; provider: string; count: number }[]>;
}

/** What one `relay reconcile run` did, for its textfile. */
export interface RunSummary {
  exitCode: number;
  finishedAt: number;
  results: { host: string; outcome: string; durationMs: number; hostCalls: number; findings: string[] }[];
}
