import { Type } from "@sinclair/typebox";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import type { PolicyPassItem } from "../../../policy/pass.js";
import type { ReconcileOptions, ReconcileResult } from "../../../reconcile/runner.js";
import { defineCommand, option } from "../../define.js";
import { runCommand } from "../../run.js";
import { renderPolicyPass } from "../provider/policy-render.js";
import { cliOptions, exitForReconcile, RETEST_HELP, renderReconcile, writeMetricsFile } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadRunner = () => import("../../../reconcile/runner.js");
const loadPolicy = () => import("../../../policy/pass.js");

const Options = Type.Object(
  {
    all: Type.Optional(Type.Boolean()),
    host: Type.Optional(Type.String()),
    metricsFile: Type.Optional(Type.String()),
    heal: Type.Optional(Type.Boolean()),
    retest: Type.Optional(Type.String()),
    enforce: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
type RunOptions = typeof Options.static;

/** One provider on one host, or --all (on every host, or on --host). */
async function reconcileTargets(
  ctx: AppContext,
  providerId: string | undefined,
  opts: RunOptions,
  onTested: Pick<ReconcileOptions, "onTested">,
): Promise<ReconcileResult[]> {
  const runner = await loadRunner();
  if (opts.all) {
    if (providerId)
      throw invalidInput("AMBIGUOUS_TARGET", "give either --all or PROVIDER_ID --host HOST, not both");
    return runner.reconcileAll(ctx, {
      ...cliOptions(opts),
      ...onTested,
      ...(opts.host ? { hostRef: opts.host } : {}),
      onResult: (r) => {
        if (process.stderr.isTTY)
          process.stderr.write(
            `  ${r.outcome === "ok" ? "✓" : "✗"} ${r.provider_id} on ${r.host_name}: ${r.outcome} (${r.findings.length} finding(s), ${r.duration_ms} ms)\n`,
          );
      },
    });
  }
  if (!providerId || !opts.host)
    throw invalidInput("TARGET_REQUIRED", "give --all, or PROVIDER_ID with --host HOST");
  return [
    await runner.reconcileProvider(
      ctx,
      { hostRef: opts.host, providerId },
      { ...cliOptions(opts), ...onTested },
    ),
  ];
}

export const reconcileRun = defineCommand({
  name: "run",
  description: "for cron: exit 0 all good, 2 drift or degradation on any host, else 1 if a run failed",
  arguments: [["[provider_id]", "one provider (with --host), or use --all"]],
  options: [
    option("--all", "every provider on every host (with --host: on that host)"),
    option("--host <host>", "host name or id"),
    option(
      "--metrics-file <path>",
      "also write this run's metrics in Prometheus text format (node_exporter textfile collector)",
    ),
    option(
      "--heal",
      "repair what needs no key: re-bind accounts, re-assign subscriptions, re-create a channel",
    ),
    option("--retest <policy>", RETEST_HELP),
    option(
      "--enforce",
      "then run the health policy: pause/resume where `relay provider policy … --enforce on`, else say what it would do",
    ),
  ],
  schema: Options,
  help: "\nExit codes: 0 all good; 2 drift or degradation found on any host (even if another host failed); 1 a run failed and no drift was found.\n\nExamples:\n  relay reconcile run deepseek --host prod\n  */10 * * * * relay reconcile run --all --json --metrics-file /var/lib/node_exporter/relay.prom >> /var/log/relay-reconcile.jsonl",
  action: async ([providerId]: [string | undefined], opts, cmd) => {
    await runCommand<{ items: ReconcileResult[]; policy?: PolicyPassItem[] }>(cmd, async (ctx) => {
      const collect = opts.enforce ? (await loadPolicy()).testCollector() : undefined;
      const items = await reconcileTargets(
        ctx,
        providerId,
        opts,
        collect ? { onTested: collect.onTested } : {},
      );
      const policy = collect
        ? await (await loadPolicy()).runPolicyPass(ctx, items, collect.tests)
        : undefined;
      const exitCode = exitForReconcile(items);
      if (opts.metricsFile)
        await writeMetricsFile(
          opts.metricsFile,
          await ctx.metrics.textfile({
            exitCode,
            finishedAt: Date.now(),
            results: items.map((r) => ({
              host: r.host_name,
              outcome: r.outcome,
              durationMs: r.duration_ms,
              hostCalls: r.host_calls,
              findings: r.findings.filter((f) => !f.healed).map((f) => f.kind),
            })),
          }),
        );
      return {
        data: { items, ...(policy ? { policy } : {}) },
        human: () =>
          items.length === 0
            ? "nothing to reconcile"
            : [renderReconcile(items), ...(policy ? [renderPolicyPass(policy)] : [])].join("\n"),
        exitCode,
      };
    });
  },
});
