import type { Command } from "commander";
import { ExitCode, invalidInput } from "../../domain/errors.js";
import { parseRetest } from "../../domain/retest.js";
import type { ReconcileOptions, ReconcileResult } from "../../reconcile/runner.js";
import type { ProviderListItem, ProviderStatusView, ResourceView } from "../../reconcile/status.js";
import { table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadRunner = () => import("../../reconcile/runner.js");
const loadStatus = () => import("../../reconcile/status.js");

export function renderReconcile(results: ReconcileResult[]): string {
  const lines = [
    table(
      ["PROVIDER", "HOST", "OUTCOME", "HEALTH", "SYNC", "STATUS", "FINDINGS", "RETESTED", "CALLS", "MS"],
      results.map((r) => [
        r.provider_id,
        r.host_name,
        r.outcome,
        r.health ?? "-",
        r.sync ?? "-",
        `${r.previous_status ?? "-"} → ${r.new_status ?? "-"}`,
        r.findings.length,
        `${r.retest.tested} (${r.retest.policy})`,
        r.host_calls,
        r.duration_ms,
      ]),
    ),
  ];
  for (const r of results) {
    for (const f of r.findings) {
      lines.push(`${f.healed ? "✔ healed" : "✗"} ${f.kind.padEnd(15)} ${f.message}`);
      if (f.next_step) lines.push(`  → ${f.next_step}`);
    }
    for (const h of r.healed) lines.push(`  ${h}`);
    if (r.ignored.length > 0)
      lines.push(
        `${r.ignored.length} difference(s) ignored for ${r.provider_id} on ${r.host_name} (RELAY_DRIFT_IGNORE):`,
        ...r.ignored.map(
          (i) =>
            `  ~ ${i.resource_type} ${i.name} (#${i.host_resource_id}): ${i.field} is ${JSON.stringify(i.actual)}, relay set ${JSON.stringify(i.expected)} [${i.rule}]`,
        ),
      );
    if (r.outcome === "error") lines.push(`✗ ${r.provider_id} on ${r.host_name}: ${r.reason}`);
  }
  return lines.join("\n");
}

/** Written whole, then renamed: the textfile collector never reads half a file. */
async function writeMetricsFile(path: string, text: string) {
  const { renameSync, writeFileSync } = await import("node:fs");
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Across hosts and providers, the most actionable outcome wins: 2 when any provider has drift or
 * degradation (an error elsewhere must not hide it), else 1 when any run failed, else 0. The
 * errors are still in the output (one log line each on stderr, `error` items under --json).
 */
export function exitForReconcile(results: ReconcileResult[]): number {
  if (results.some((r) => r.outcome === "drift" || r.outcome === "degraded")) return ExitCode.drift;
  if (results.some((r) => r.outcome === "error")) return ExitCode.error;
  return ExitCode.ok;
}

function cliOptions(opts: { heal?: boolean; retest?: string }): ReconcileOptions {
  return {
    trigger: "cli",
    heal: opts.heal === true,
    ...(opts.retest !== undefined ? { retest: parseRetest(opts.retest) } : {}),
  };
}

export function configureReconcileCommand(program: Command, provider: Command) {
  const reconcile = program
    .command("reconcile")
    .description("compare hosts with the records, re-test, re-prove access");
  reconcile
    .command("run")
    .argument("[provider_id]", "one provider (with --host), or use --all")
    .option("--all", "every provider on every host (with --host: on that host)")
    .option("--host <host>", "host name or id")
    .option(
      "--metrics-file <path>",
      "also write this run's metrics in Prometheus text format (node_exporter textfile collector)",
    )
    .option(
      "--heal",
      "repair what needs no key: re-bind accounts, re-assign subscriptions, re-create a channel",
    )
    .option(
      "--retest <policy>",
      "accounts to re-test: all (default), failed (those that failed last run), none, or sample:N (N at random plus last run's failures)",
    )
    .description("for cron: exit 0 all good, 2 drift or degradation on any host, else 1 if a run failed")
    .addHelpText(
      "after",
      "\nExit codes: 0 all good; 2 drift or degradation found on any host (even if another host failed); 1 a run failed and no drift was found.\n\nExamples:\n  relay reconcile run deepseek --host prod\n  */10 * * * * relay reconcile run --all --json --metrics-file /var/lib/node_exporter/relay.prom >> /var/log/relay-reconcile.jsonl",
    )
    .action(
      async (
        providerId: string | undefined,
        opts: { all?: boolean; host?: string; heal?: boolean; retest?: string; metricsFile?: string },
        cmd: Command,
      ) => {
        await runCommand<{ items: ReconcileResult[] }>(cmd, async (ctx) => {
          let items: ReconcileResult[];
          if (opts.all) {
            if (providerId)
              throw invalidInput(
                "AMBIGUOUS_TARGET",
                "give either --all or PROVIDER_ID --host HOST, not both",
              );
            items = await (await loadRunner()).reconcileAll(ctx, {
              ...cliOptions(opts),
              ...(opts.host ? { hostRef: opts.host } : {}),
              onResult: (r) => {
                if (process.stderr.isTTY)
                  process.stderr.write(
                    `  ${r.outcome === "ok" ? "✓" : "✗"} ${r.provider_id} on ${r.host_name}: ${r.outcome} (${r.findings.length} finding(s), ${r.duration_ms} ms)\n`,
                  );
              },
            });
          } else {
            if (!providerId || !opts.host)
              throw invalidInput("TARGET_REQUIRED", "give --all, or PROVIDER_ID with --host HOST");
            items = [
              await (await loadRunner()).reconcileProvider(
                ctx,
                { hostRef: opts.host, providerId },
                cliOptions(opts),
              ),
            ];
          }
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
            data: { items },
            human: () => (items.length === 0 ? "nothing to reconcile" : renderReconcile(items)),
            exitCode,
          };
        });
      },
    );

  provider
    .command("reconcile")
    .argument("<provider_id>", "provider from an installed pack")
    .requiredOption("--host <host>", "host name or id (required)")
    .option("--heal", "repair what needs no key")
    .option(
      "--retest <policy>",
      "accounts to re-test: all (default), failed (those that failed last run), none, or sample:N (N at random plus last run's failures)",
    )
    .description("reconcile one provider on one host now")
    .addHelpText("after", "\nExample:\n  relay provider reconcile deepseek --host prod")
    .action(
      async (providerId: string, opts: { host: string; heal?: boolean; retest?: string }, cmd: Command) => {
        await runCommand<ReconcileResult>(cmd, async (ctx) => {
          const r = await (await loadRunner()).reconcileProvider(
            ctx,
            { hostRef: opts.host, providerId },
            cliOptions(opts),
          );
          return { data: r, human: () => renderReconcile([r]), exitCode: exitForReconcile([r]) };
        });
      },
    );

  provider
    .command("list")
    .option("--host <host>", "only this host")
    .description("providers of the installed packs, with their status on each host")
    .addHelpText("after", "\nExample:\n  relay provider list --host prod")
    .action(async (opts: { host?: string }, cmd: Command) => {
      await runReadOnly<{ items: ProviderListItem[] }>(cmd, async (ctx) => {
        const items = await (await loadStatus()).listProviders(ctx, opts.host);
        return {
          data: { items },
          human: () =>
            items.length === 0
              ? "no providers: install a pack with `relay pack install`"
              : table(
                  ["PROVIDER", "NAME", "PACK", "HOSTS"],
                  items.map((p) => [
                    p.provider_id,
                    p.display_name,
                    p.pack_id,
                    p.hosts
                      .map(
                        (h) =>
                          `${h.host_name}: health=${h.health} sync=${h.sync} status=${h.status}${h.host_reachable === "no" ? " (host unreachable)" : ""}`,
                      )
                      .join(", ") || "-",
                  ]),
                ),
        };
      });
    });

  provider
    .command("status")
    .argument("<provider_id>", "provider from an installed pack")
    .option("--host <host>", "only this host")
    .description(
      "provider status per host: health and sync (docs/operations.md), status, access, last reconcile and its findings",
    )
    .addHelpText("after", "\nExample:\n  relay provider status deepseek")
    .action(async (providerId: string, opts: { host?: string }, cmd: Command) => {
      await runReadOnly<ProviderStatusView>(cmd, async (ctx) => {
        const v = await (await loadStatus()).providerStatus(ctx, providerId, opts.host);
        return {
          data: v,
          human: () =>
            [
              table(
                ["HOST", "HEALTH", "SYNC", "STATUS", "SINCE", "ACCESS", "LAST RECONCILE", "REASON"],
                v.hosts.map((h) => [
                  h.host_reachable === "no" ? `${h.host_name} (unreachable)` : h.host_name,
                  h.health.state,
                  h.sync.state,
                  h.status,
                  h.status_changed_at,
                  h.access_state,
                  h.last_reconcile ? `${h.last_reconcile.outcome} @ ${h.last_reconcile.started_at}` : null,
                  h.reason,
                ]),
              ),
              ...v.hosts.flatMap((h) => [
                `  ${h.host_name}: health ${h.health.state} — ${h.health.reason}`,
                `  ${h.host_name}: sync ${h.sync.state} — ${h.sync.reason}`,
              ]),
              ...v.hosts.flatMap((h) =>
                (h.last_reconcile?.findings ?? []).flatMap((f) => [
                  `  ${h.host_name}: ${f.kind} — ${f.message}`,
                  ...(f.next_step ? [`    → ${f.next_step}`] : []),
                ]),
              ),
            ].join("\n"),
        };
      });
    });

  provider
    .command("resources")
    .argument("<provider_id>", "provider from an installed pack")
    .option("--host <host>", "only this host")
    .description("every managed resource with its host id, state and origin batch")
    .addHelpText("after", "\nExample:\n  relay provider resources deepseek --host prod --json")
    .action(async (providerId: string, opts: { host?: string }, cmd: Command) => {
      await runReadOnly<{ items: ResourceView[] }>(cmd, async (ctx) => {
        const items = await (await loadStatus()).providerResources(ctx, providerId, opts.host);
        return {
          data: { items },
          human: () =>
            table(
              ["TYPE", "NAME", "HOST ID", "STATE", "ORIGIN", "BATCH", "GEN"],
              items.map((r) => [
                r.type,
                r.name,
                r.host_resource_id,
                r.state,
                r.origin,
                r.batch_id,
                r.generation,
              ]),
            ),
        };
      });
    });
}
