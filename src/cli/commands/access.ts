import { type Command, Option } from "commander";
import type { AccessPreview, AssignmentOutcome } from "../../access/subscriptions.js";
import { PROVEN_STATES } from "../../domain/access.js";
import { ExitCode, invalidInput } from "../../domain/errors.js";
import type { SubscriptionTarget } from "../../domain/plan.js";
import type { AccessStatusView } from "../../steps/access-proof.js";
import { printable } from "../../util/sanitize.js";
import { confirmOrRefuse } from "../confirm.js";
import { keyValues, parseUserTarget, table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadStatus = () => import("../../access/status.js");
const loadSubscriptions = () => import("../../access/subscriptions.js");

export function renderAccess(s: AccessStatusView): string {
  return keyValues([
    ["provider", s.provider_id],
    ["host", s.host_name],
    ["access", `${s.access_state.toUpperCase()} — ${s.reason}`],
    ["provider status", s.provider_status],
    [
      "gateway call",
      s.gateway
        ? `HTTP ${s.gateway.status}${s.gateway.error_code ? ` ${s.gateway.error_code}` : ""}, ${s.gateway.latency_ms} ms, model ${s.gateway.model ?? "-"}`
        : "not made",
    ],
    ["completion", s.gateway?.completion ?? null],
    ["checked", s.checked_at],
  ]);
}

interface TargetFlags {
  subscribe?: SubscriptionTarget[];
  /** Former name of --subscribe. */
  user?: SubscriptionTarget[];
}

type AssignFlags = { host: string; dryRun?: boolean; yes?: boolean } & TargetFlags;

function renderAssignPreview(p: AccessPreview): string {
  return [
    `group: ${p.group ? `${p.group.name} (#${p.group.id}, ${p.group.subscription_type})` : "none — import the provider first"}`,
    table(
      ["USER", "DAYS", "ACTION", "REASON"],
      p.assign.map((a) => [a.user_id, a.validity_days, a.action, a.reason]),
    ),
  ].join("\n");
}

const targets = (o: TargetFlags) => [...(o.subscribe ?? []), ...(o.user ?? [])];

export function configureAccessCommand(program: Command) {
  const access = program
    .command("access")
    .description("subscriptions and the proof that users can call the provider");

  access
    .command("preview")
    .argument("<provider_id>", "provider from an installed pack")
    .requiredOption("--host <host>", "host name or id (required)")
    .option(
      "--subscribe <user[:days]>",
      "user to subscribe, with validity days (repeatable)",
      parseUserTarget,
    )
    .addOption(
      new Option("--user <user[:days]>", "former name of --subscribe").argParser(parseUserTarget).hideHelp(),
    )
    .description("who would be assigned, who already has access, what the probe will do (read-only)")
    .addHelpText("after", "\nExample:\n  relay access preview deepseek --host prod --user 42:30 --user 43")
    .action(async (providerId: string, opts: { host: string } & TargetFlags, cmd: Command) => {
      await runReadOnly<AccessPreview>(cmd, async (ctx) => {
        const p = await (await loadSubscriptions()).previewAccess(ctx, {
          hostRef: opts.host,
          providerId,
          users: targets(opts),
        });
        return {
          data: p,
          human: () =>
            [
              `group: ${p.group ? `${p.group.name} (#${p.group.id}, ${p.group.subscription_type})` : "none — import the provider first"}`,
              `already subscribed: ${p.already_subscribed.join(", ") || "nobody"}`,
              p.assign.length > 0
                ? table(
                    ["USER", "DAYS", "ACTION", "REASON"],
                    p.assign.map((a) => [a.user_id, a.validity_days, a.action, a.reason]),
                  )
                : "",
              "probe:",
              ...p.probe.steps.map((s, i) => `  ${i + 1}. ${s}`),
            ].join("\n"),
        };
      });
    });

  access
    .command("assign")
    .argument("<provider_id>", "provider from an installed pack")
    .requiredOption("--host <host>", "host name or id (required)")
    .option(
      "--subscribe <user[:days]>",
      "user to subscribe, with validity days (repeatable; required)",
      parseUserTarget,
    )
    .addOption(
      new Option("--user <user[:days]>", "former name of --subscribe").argParser(parseUserTarget).hideHelp(),
    )
    .option("--dry-run", "show who would be assigned (as `relay access preview`); change nothing")
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .description(
      "assign subscriptions to the provider's group (idempotent; conflicts are reported, never overwritten)",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 assigned (or already held), 3 some refused, 1 refused, cancelled or every assignment failed.\n\nExamples:\n  relay access assign deepseek --host prod --subscribe 42:30 --subscribe 43 --dry-run\n  relay access assign deepseek --host prod --subscribe 42:30 --yes",
    )
    .action(async (providerId: string, opts: AssignFlags, cmd: Command) => {
      const users = targets(opts);
      const input = { hostRef: opts.host, providerId, users };
      if (opts.dryRun) {
        await runReadOnly<AccessPreview>(cmd, async (ctx) => {
          if (users.length === 0) throw invalidInput("USAGE", "give at least one --subscribe USER[:DAYS]");
          const p = await (await loadSubscriptions()).previewAccess(ctx, input);
          return { data: p, human: () => renderAssignPreview(p) };
        });
        return;
      }
      await runCommand<{ items: AssignmentOutcome[] }>(cmd, async (ctx) => {
        if (users.length === 0) throw invalidInput("USAGE", "give at least one --subscribe USER[:DAYS]");
        const subscriptions = await loadSubscriptions();
        if (opts.yes !== true) {
          // The same rule as an import: ask on a terminal, refuse elsewhere; what is shown is read now.
          const p = await subscriptions.previewAccess(ctx, input);
          await confirmOrRefuse(false, "Assign these subscriptions? [y/N] ", () =>
            printable(renderAssignPreview(p), { lines: true }),
          );
        }
        const items = await subscriptions.assignSubscriptions(ctx, input);
        const bad = items.some((i) => i.action === "conflict" || i.action === "failed");
        return {
          data: { items },
          human: () =>
            table(
              ["USER", "DAYS", "RESULT", "SUBSCRIPTION", "REASON"],
              items.map((i) => [i.user_id, i.validity_days, i.action, i.subscription_id, i.reason]),
            ),
          exitCode: bad
            ? items.some((i) => i.action === "created" || i.action === "reused")
              ? ExitCode.partial
              : ExitCode.error
            : ExitCode.ok,
        };
      });
    });

  access
    .command("status")
    .argument("<provider_id>", "provider from an installed pack")
    .requiredOption("--host <host>", "host name or id (required)")
    .option("--probe", "prove access now with a real end-user call through the gateway")
    .option(
      "--model <name>",
      "with --probe: call this model instead of the smoke model (an old name after `provider migrate`)",
    )
    .addOption(new Option("--cached", "the default: the last recorded proof").hideHelp())
    .description("the last recorded access proof (as the API's GET), or with --probe a new one made now")
    .addHelpText(
      "after",
      "\nExit codes: 0 access proven, 2 not configured or broken, 1 never checked (use --probe).\n\nExamples:\n  relay access status deepseek --host prod --probe\n  relay access status deepseek --host prod --json",
    )
    .action(
      async (providerId: string, opts: { host: string; probe?: boolean; model?: string }, cmd: Command) => {
        await runReadOnly<AccessStatusView>(cmd, async (ctx) => {
          const model = opts.model !== undefined ? { model: opts.model } : {};
          const s = opts.probe
            ? await (await loadStatus()).runAccessProbe(ctx, { hostRef: opts.host, providerId, ...model })
            : await (await loadStatus()).lastAccessStatus(ctx, opts.host, providerId);
          return {
            data: s,
            human: renderAccess,
            exitCode: PROVEN_STATES.includes(s.access_state) ? ExitCode.ok : ExitCode.drift,
          };
        });
      },
    );
}
