import { Type } from "@sinclair/typebox";
import { ExitCode } from "../../../domain/errors.js";
import type { ImportPlan } from "../../../provision/types.js";
import { defineCommand, option } from "../../define.js";
import { parseUserTarget } from "../../format.js";
import { writePlanFile } from "../../plan-file.js";
import { runReadOnly } from "../../run.js";
import { renderPlan } from "./import-render.js";
import { importFields, importOptions, requestFrom } from "./import-request.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPreview = () => import("../../../provision/preview.js");

/** Preview's exit code: 0 unless asked for detail (terraform's -detailed-exitcode), 4 on conflicts. */
function previewExit(plan: ImportPlan, detailed: boolean): number {
  if (plan.blocked && plan.no_usable_key && plan.blocked_reasons.length === 1) return ExitCode.error;
  if (plan.blocked) return ExitCode.conflict;
  const changes = plan.summary.create > 0 || plan.subscriptions.some((s) => s.action === "create");
  return detailed && changes ? ExitCode.drift : ExitCode.ok;
}

export const providerPreview = defineCommand({
  name: "preview",
  description: "show what an import would do; reads the host, writes nothing on it",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    ...importOptions(false),
    option("--subscribe <user[:days]>", "user to subscribe (repeatable)").argParser(parseUserTarget),
    option("--out <file>", "also write the plan (no key material) for `relay provider import --plan FILE`"),
    option("--detailed-exitcode", "exit 2 when the plan has changes (0 when it has none)"),
    option(
      "--precheck",
      "also show each new key to its upstream through the host's model preview and classify it (ready, revoked, balance_empty, wrong_region, rate_limited, unknown); writes nothing",
    ),
  ],
  schema: Type.Object(
    { ...importFields, out: Type.Optional(Type.String()), detailedExitcode: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 plan ready (with --detailed-exitcode: no changes), 2 changes pending (--detailed-exitcode only), 1 error or no usable key, 4 the plan conflicts with the host.\n\nExamples:\n  relay provider preview deepseek --host prod --keys-file ./deepseek.keys --mode partial\n  relay provider preview deepseek --host prod --keys-file ./deepseek.keys --mode strict --out plan.json",
  action: async ([providerId]: [string], opts, cmd) => {
    await runReadOnly<ImportPlan>(cmd, async (ctx) => {
      const { req } = await requestFrom(providerId, opts);
      const { plan, internals } = await (await loadPreview()).buildPlan(ctx, req);
      if (opts.precheck === true)
        plan.key_triage = await (await import("../../../provision/precheck.js")).previewTriage(
          ctx,
          internals,
          plan,
        );
      if (opts.out !== undefined) writePlanFile(opts.out, req, plan);
      return { data: plan, human: renderPlan, exitCode: previewExit(plan, opts.detailedExitcode === true) };
    });
  },
});
