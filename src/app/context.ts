import { appendFileSync } from "node:fs";
import { type Config, ConfigError } from "../config/index.js";
import { unknownIgnoreTargets } from "../domain/drift-ignore.js";
import {
  type AdapterOptions,
  type CallObservation,
  type HostAdapter,
  Sub2apiAdapter,
} from "../host/sub2api/index.js";
import type { Db } from "../store/db.js";
import { statusByHost } from "../store/installs.js";
import { reconcileTimesByHost } from "../store/reconcile-runs.js";
import { installId } from "../store/settings.js";
import { AdaptiveLimit } from "../util/aimd.js";
import type { Logger } from "../util/logger.js";
import { Metrics } from "../util/metrics.js";
import { packageVersion } from "../util/paths.js";
import type { SecretBox } from "../util/secrets.js";
import { axesGauges } from "./axes.js";
import { openSecretBox } from "./master-key.js";

/** `hostName`: the registered host's name, the `host` label of its call metrics. */
export type HostAdapterFactory = (options: AdapterOptions & { hostName?: string }) => HostAdapter;

/** Everything a service verb needs; built once per process (or per test). */
export interface AppContext {
  db: Db;
  config: Config;
  secrets: SecretBox;
  logger: Logger;
  clock: () => Date;
  hostAdapter: HostAdapterFactory;
  metrics: Metrics;
  /** This installation's id, part of every name relay gives a host resource (domain/naming.ts). */
  installId: string;
}

export interface ContextParts {
  db: Db;
  config: Config;
  logger: Logger;
  clock?: () => Date;
  hostAdapter?: HostAdapterFactory;
  /** `relay serve`: also export the process's own metrics (CPU, memory, event loop). */
  processMetrics?: boolean;
}

/**
 * The `host` label of host-call metrics: the host's name, as in every other metric; a host not
 * registered yet (`relay host add` probing it) is labelled by its address.
 */
function hostLabel(options: { baseUrl: string; hostName?: string }): string {
  if (options.hostName) return options.hostName;
  try {
    return new URL(options.baseUrl).host;
  } catch {
    return "invalid";
  }
}

export async function createContext(parts: ContextParts): Promise<AppContext> {
  // The rules' syntax was checked with the config; what they name is checked here, at start.
  const [first, ...rest] = unknownIgnoreTargets(parts.config.driftIgnore);
  if (first) throw new ConfigError(first.variable, [first, ...rest].map((p) => p.problem).join("; "));
  const timeoutMs = parts.config.hostTimeoutMs;
  // The axes are read through the context being built (bound below, before any scrape).
  let self: AppContext | undefined;
  const metrics = new Metrics(
    {
      providerStatuses: async () => await statusByHost(parts.db),
      reconcileTimes: async () => await reconcileTimesByHost(parts.db),
      axes: async () => (self ? await axesGauges(self) : { providers: [], hosts: [] }),
    },
    {
      version: packageVersion(),
      processMetrics: parts.processMetrics === true,
    },
  );
  const base: HostAdapterFactory =
    parts.hostAdapter ?? ((options) => new Sub2apiAdapter({ timeoutMs, ...options }));
  // One adaptive limit per host for the whole process: imports, rollbacks, reconciles and probes
  // of the same host share it, so together they never send it more than it can take.
  const gates = new Map<string, AdaptiveLimit>();
  const gateOf = (baseUrl: string) => {
    let gate = gates.get(baseUrl);
    if (!gate) {
      gate = new AdaptiveLimit(parts.config.hostConcurrency);
      gates.set(baseUrl, gate);
    }
    return gate;
  };
  self = {
    db: parts.db,
    config: parts.config,
    logger: parts.logger,
    secrets: await openSecretBox(parts.db, parts.config.masterKey),
    installId: await installId(parts.db),
    clock: parts.clock ?? (() => new Date()),
    metrics,
    // Every host call is counted and timed, whoever makes it.
    hostAdapter: (options) =>
      base({
        gate: gateOf(options.baseUrl),
        ...withoutName(options),
        onCall: (o) => {
          const labels = { host: hostLabel(options), operation: o.operation, outcome: o.outcome };
          metrics.hostCalls.inc(labels);
          metrics.hostCallSeconds.observe(labels, o.durationMs / 1000);
          if (parts.config.hostCallTrace) traceCall(parts.config.hostCallTrace, o);
          options.onCall?.(o);
        },
      }),
  };
  return self;
}

/** One line per host call (operation, outcome, status; never a URL, body or key): RELAY_HOST_CALL_TRACE. */
function traceCall(file: string, o: CallObservation): void {
  appendFileSync(
    file,
    `${JSON.stringify({ operation: o.operation, outcome: o.outcome, status: o.status ?? null })}\n`,
  );
}

const withoutName = ({ hostName: _name, ...options }: AdapterOptions & { hostName?: string }) => options;
