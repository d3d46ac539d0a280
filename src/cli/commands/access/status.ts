import { Type } from "@sinclair/typebox";
import { PROVEN_STATES } from "../../../domain/access.js";
import { ExitCode } from "../../../domain/errors.js";
import type { AccessStatusView } from "../../../steps/access-proof.js";
import { defineCommand, option, requiredOption } from "../../define.js";
import { runReadOnly } from "../../run.js";
import { renderAccess } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadStatus = () => import("../../../access/status.js");

export const accessStatus = defineCommand({
  name: "status",
  description: "the last recorded access proof (as the API's GET), or with --probe a new one made now",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    requiredOption("--host <host>", "host name or id (required)"),
    option("--probe", "prove access now with a real end-user call through the gateway"),
    option(
      "--model <name>",
      "with --probe: call this model instead of the smoke model (an old name after `provider migrate`)",
    ),
    option("--cached", "the default: the last recorded proof").hideHelp(),
  ],
  schema: Type.Object(
    {
      host: Type.String(),
      probe: Type.Optional(Type.Boolean()),
      model: Type.Optional(Type.String()),
      cached: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 access proven, 2 not configured or broken, 1 never checked (use --probe).\n\nExamples:\n  relay access status deepseek --host prod --probe\n  relay access status deepseek --host prod --json",
  action: async ([providerId]: [string], opts, cmd) => {
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
});
