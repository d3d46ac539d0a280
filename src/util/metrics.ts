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
  readonly providerStatus: Gauge<"host" | "provider" | "status">;

  constructor(
    providerStatuses: () => { host: string; provider: string; status: string }[] = () => [],
    build: { version: string; processMetrics?: boolean } = { version: "unknown" },
  ) {
    // Process metrics (CPU, memory, event loop, handles) describe a long-running server: only
    // `relay serve` asks for them (a CLI command, or its --metrics-file, would report a process
    // that is about to exit, and would pay for the collectors at every start).
    if (build.processMetrics) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "relay_build_info",
      help: "1, labelled with the running relay version and Node.js version",
      labelNames: ["version", "node"] as const,
      registers: [this.registry],
    }).set({ version: build.version, node: process.versions.node }, 1);
    this.providerStatus = new Gauge({
      name: "relay_provider_status",
      help: "1 for the current status of each provider on each host",
      labelNames: ["host", "provider", "status"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of providerStatuses())
          this.set({ host: p.host, provider: p.provider, status: p.status }, 1);
      },
    });
  }
}
