import { Type } from "@sinclair/typebox";
import type { ProbeUserRemoval } from "../../../hosts/probe-user.js";
import { printable } from "../../../util/sanitize.js";
import { confirmOrRefuse } from "../../confirm.js";
import { defineCommand, option } from "../../define.js";
import { runCommand, runReadOnly } from "../../run.js";
import { renderProbeUserRemoval } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadProbeUser = () => import("../../../hosts/probe-user.js");

export const hostRemoveProbeUser = defineCommand({
  name: "remove-probe-user",
  description:
    "remove relay's own probe user from the host (its subscriptions relay assigned, its API keys, the user); the next access proof creates a new one",
  arguments: [["<host>", "host name or id"]],
  options: [
    option("--dry-run", "say what would be removed; change nothing"),
    option("--yes", "do not ask for confirmation (required when not on a terminal)"),
  ],
  schema: Type.Object(
    { dryRun: Type.Optional(Type.Boolean()), yes: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 removed, listed (--dry-run) or nothing to remove, 1 refused, cancelled or unfinished (run it again).\n\nExamples:\n  relay host remove-probe-user prod --dry-run\n  relay host remove-probe-user prod --yes --json",
  action: async ([ref]: [string], opts, cmd) => {
    const verbs = await loadProbeUser();
    if (opts.dryRun) {
      await runReadOnly<ProbeUserRemoval>(cmd, async (ctx) => ({
        data: await verbs.removeProbeUser(ctx, ref, { dryRun: true }),
        human: renderProbeUserRemoval,
      }));
      return;
    }
    await runCommand<ProbeUserRemoval>(cmd, async (ctx) => {
      if (opts.yes !== true) {
        // The import's rule: ask on a terminal, refuse elsewhere; what is shown is read now.
        const p = await verbs.removeProbeUser(ctx, ref, { dryRun: true });
        if (p.outcome !== "nothing_to_remove")
          await confirmOrRefuse(false, "Remove relay's probe user? [y/N] ", () =>
            printable(renderProbeUserRemoval(p, true), { lines: true }),
          );
      }
      return { data: await verbs.removeProbeUser(ctx, ref), human: renderProbeUserRemoval };
    });
  },
});
