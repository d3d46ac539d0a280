import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one process (a registry per context, so tests never share counters). */
export class Metrics {
  readonly registry = new Registry();
  readonly hostCalls = new Counter({
    name: "relay_host_calls_total",
    help: "Calls to sub2api hosts by operation and outcome",
    labelNames: ["operation", "outcome"] as const,
    registers: [this.registry],
  });
  readonly hostCallSeconds = new Histogram({
    name: "relay_host_call_duration_seconds",
    help: "Duration of calls to sub2api hosts (retries included)",
    labelNames: ["operation", "outcome"] as const,
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
  readonly providerStatus: Gauge<"host" | "provider" | "status">;

  constructor(providerStatuses: () => { host: string; provider: string; status: string }[] = () => []) {
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
