import { Type } from "@sinclair/typebox";
import type { AccessPreview, AssignmentOutcome } from "../../../access/subscriptions.js";
import { ExitCode, invalidInput } from "../../../domain/errors.js";
import { printable } from "../../../util/sanitize.js";
import { confirmOrRefuse } from "../../confirm.js";
import { defineCommand, option, requiredOption, SubscriptionTargets } from "../../define.js";
import { parseUserTarget, table } from "../../format.js";
import { runCommand, runReadOnly } from "../../run.js";
import { renderAssignPreview, targets } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadSubscriptions = () => import("../../../access/subscriptions.js");

/** Some refused: 3 when others were assigned (or already held), else 1. */
function exitForAssign(items: AssignmentOutcome[]): number {
  if (!items.some((i) => i.action === "conflict" || i.action === "failed")) return ExitCode.ok;
  return items.some((i) => i.action === "created" || i.action === "reused")
    ? ExitCode.partial
    : ExitCode.error;
}

export const accessAssign = defineCommand({
  name: "assign",
  description:
    "assign subscriptions to the provider's group (idempotent; conflicts are reported, never overwritten)",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    requiredOption("--host <host>", "host name or id (required)"),
    option(
      "--subscribe <user[:days]>",
      "user to subscribe, with validity days (repeatable; required)",
    ).argParser(parseUserTarget),
    option("--user <user[:days]>", "former name of --subscribe").argParser(parseUserTarget).hideHelp(),
    option("--dry-run", "show who would be assigned (as `relay access preview`); change nothing"),
    option("--yes", "do not ask for confirmation (required when not on a terminal)"),
  ],
  schema: Type.Object(
    {
      host: Type.String(),
      subscribe: SubscriptionTargets,
      user: SubscriptionTargets,
      dryRun: Type.Optional(Type.Boolean()),
      yes: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 assigned (or already held), 3 some refused, 1 refused, cancelled or every assignment failed.\n\nExamples:\n  relay access assign deepseek --host prod --subscribe 42:30 --subscribe 43 --dry-run\n  relay access assign deepseek --host prod --subscribe 42:30 --yes",
  action: async ([providerId]: [string], opts, cmd) => {
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
      return {
        data: { items },
        human: () =>
          table(
            ["USER", "DAYS", "RESULT", "SUBSCRIPTION", "REASON"],
            items.map((i) => [i.user_id, i.validity_days, i.action, i.subscription_id, i.reason]),
          ),
        exitCode: exitForAssign(items),
      };
    });
  },
});
