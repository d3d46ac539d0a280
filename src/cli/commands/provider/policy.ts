import { Type } from "@sinclair/typebox";
import type { PolicyView } from "../../../policy/manage.js";
import { defineCommand, option, requiredOption } from "../../define.js";
import { runCommand, runReadOnly } from "../../run.js";
import { onOff, renderPolicy, wholeNumber } from "./policy-render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadManage = () => import("../../../policy/manage.js");

export const providerPolicy = defineCommand({
  name: "policy",
  description: "show or set the health policy of a provider on a host (observe mode unless enforced)",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    requiredOption("--host <host>", "host name or id (required)"),
    option(
      "--enforce <on|off>",
      "let relay pause and resume the accounts it made (off: observe mode, the default)",
    ),
    option("--fail-after <n>", "failed tests in a row before relay pauses an account (default 3)"),
    option("--resume-after <m>", "passing tests in a row before relay resumes one it paused (default 2)"),
  ],
  // on/off and the thresholds keep their own refusals (ENFORCE_INVALID, POLICY_THRESHOLD_INVALID).
  schema: Type.Object(
    {
      host: Type.String(),
      enforce: Type.Optional(Type.String()),
      failAfter: Type.Optional(Type.String()),
      resumeAfter: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  help: "\nExamples:\n  relay provider policy deepseek --host prod\n  relay provider policy deepseek --host prod --enforce on --fail-after 3",
  action: async ([providerId]: [string], opts, cmd) => {
    const change = [opts.enforce, opts.failAfter, opts.resumeAfter].some((o) => o !== undefined);
    const run = change ? runCommand<PolicyView> : runReadOnly<PolicyView>;
    await run(cmd, async (ctx) => {
      const enforce = onOff(opts.enforce);
      const failAfter = wholeNumber("--fail-after", opts.failAfter);
      const resumeAfter = wholeNumber("--resume-after", opts.resumeAfter);
      const m = await loadManage();
      const v = change
        ? await m.configurePolicy(ctx, {
            hostRef: opts.host,
            providerId,
            ...(enforce !== undefined ? { enforce } : {}),
            ...(failAfter !== undefined ? { failAfter } : {}),
            ...(resumeAfter !== undefined ? { resumeAfter } : {}),
          })
        : await m.policyStatus(ctx, { hostRef: opts.host, providerId });
      return { data: v, human: () => renderPolicy(v) };
    });
  },
});
