import { Type } from "@sinclair/typebox";
import type { ReconcileResult } from "../../../reconcile/runner.js";
import { defineCommand, option, requiredOption } from "../../define.js";
import { runCommand } from "../../run.js";
import { cliOptions, exitForReconcile, RETEST_HELP, renderReconcile } from "../reconcile/render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadRunner = () => import("../../../reconcile/runner.js");

export const providerReconcile = defineCommand({
  name: "reconcile",
  description: "reconcile one provider on one host now",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    requiredOption("--host <host>", "host name or id (required)"),
    option("--heal", "repair what needs no key"),
    option("--retest <policy>", RETEST_HELP),
  ],
  schema: Type.Object(
    {
      host: Type.String(),
      heal: Type.Optional(Type.Boolean()),
      retest: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  help: "\nExample:\n  relay provider reconcile deepseek --host prod",
  action: async ([providerId]: [string], opts, cmd) => {
    await runCommand<ReconcileResult>(cmd, async (ctx) => {
      const r = await (await loadRunner()).reconcileProvider(
        ctx,
        { hostRef: opts.host, providerId },
        cliOptions(opts),
      );
      return { data: r, human: () => renderReconcile([r]), exitCode: exitForReconcile([r]) };
    });
  },
});
