import { Type } from "@sinclair/typebox";
import type { ImportResult } from "../../../provision/import.js";
import { defineCommand, option } from "../../define.js";
import { parseUserTarget } from "../../format.js";
import { confirmReviewed } from "../../plan-review.js";
import { importProgress } from "../../progress.js";
import { globalOptions, runCommand } from "../../run.js";
import { exitForBatch, renderImport, renderPlan } from "./import-render.js";
import { importFields, importOptions, requestFrom } from "./import-request.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadImport = () => import("../../../provision/import.js");
const loadPreview = () => import("../../../provision/preview.js");

export const providerImport = defineCommand({
  name: "import",
  description: "import keys: create group, channel, plan, accounts; test each account; subscribe users",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    ...importOptions(true),
    option("--subscribe <user[:days]>", "assign a subscription to this user (repeatable)").argParser(
      parseUserTarget,
    ),
    option(
      "--precheck",
      "check every new key with its upstream before any host write (default for --mode partial, on hosts with sync-upstream-preview)",
    ),
    option("--no-precheck", "do not pre-check keys; each key's account test decides"),
    option(
      "--plan <file>",
      "apply exactly the plan `relay provider preview --out` wrote, or refuse before any write",
    ),
    option("--yes", "do not ask for confirmation"),
  ],
  schema: Type.Object(
    { ...importFields, plan: Type.Optional(Type.String()), yes: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 succeeded, 3 partially succeeded, 1 failed (rolled back) or no usable key, 4 another import is running, the plan conflicts, or the host or inputs changed since --plan was written.\n\nExamples:\n  relay provider import deepseek --host prod --keys-file ./deepseek.keys --mode partial --subscribe 42:30 --yes\n  relay provider import deepseek --plan plan.json --keys-file ./deepseek.keys --yes",
  action: async ([providerId]: [string], opts, cmd) => {
    const json = globalOptions(cmd).json === true;
    await runCommand<ImportResult>(cmd, async (ctx) => {
      const { req, fingerprint, reviewed } = await requestFrom(providerId, opts);
      // What runs is what was shown: the import refuses if the host changed in between.
      const expectedFingerprint = await confirmReviewed({
        yes: opts.yes,
        keysFromStdin: opts.keysFile === "-",
        fingerprint,
        preview: async () => (await (await loadPreview()).buildPlan(ctx, req)).plan,
        question: "Proceed with this import? [y/N] ",
        render: (plan) => renderPlan(plan, "exceptions"),
      });
      const progress = importProgress({ json });
      const result = await (await loadImport())
        .importKeys(ctx, req, {
          onProgress: progress.onProgress,
          ...(expectedFingerprint ? { expectedFingerprint } : {}),
          // The file's body is checked against its fingerprint: an edited plan is refused.
          ...(reviewed ? { reviewedPlan: reviewed } : {}),
        })
        .finally(progress.stop);
      return { data: result, human: renderImport, exitCode: exitForBatch(result.status) };
    });
  },
});
