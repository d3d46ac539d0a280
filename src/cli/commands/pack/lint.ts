import { Type } from "@sinclair/typebox";
import type { AppContext } from "../../../app/context.js";
import { ExitCode, isAppError } from "../../../domain/errors.js";
import type { PackIssue, PackReport } from "../../../domain/pack/validate.js";
import { defineCommand, option } from "../../define.js";
import { runCommand } from "../../run.js";
import { type LintView, parseDay, renderIssues } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPacks = () => import("../../../packs/packs.js");

/** The lint report; archive-level refusals (zip slip, bombs, …) are lint results too. */
async function lintReport(ctx: AppContext, path: string, asOf: Date | undefined): Promise<PackReport> {
  try {
    return await (await loadPacks()).lintPack(ctx, { kind: "path", path }, { asOf });
  } catch (err) {
    if (!isAppError(err) || err.kind !== "pack_invalid") throw err;
    const issues = (err.details as { issues: PackIssue[] }).issues;
    return {
      ok: false,
      pack_id: null,
      version: null,
      manifest: undefined,
      providers: [],
      content_hash: "",
      issues,
    };
  }
}

export const packLint = defineCommand({
  name: "lint",
  description: "validate a pack without installing it; reports every problem at once",
  arguments: [["<path>", "pack directory or .zip"]],
  options: [
    option("--strict", "treat warnings as errors"),
    option("--as-of <date>", "judge model retirement dates as of this day (YYYY-MM-DD; default today)"),
  ],
  schema: Type.Object(
    { strict: Type.Optional(Type.Boolean()), asOf: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  help: "\nExample:\n  relay pack lint packs/openai-cn-pack --strict\n  relay pack lint packs/openai-cn-pack --as-of 2027-01-01",
  action: async ([path]: [string], opts, cmd) => {
    await runCommand<LintView>(
      cmd,
      async (ctx) => {
        const asOf = opts.asOf === undefined ? undefined : parseDay(opts.asOf);
        const report = await lintReport(ctx, path, asOf);
        const strict = opts.strict === true;
        const failed = !report.ok || (strict && report.issues.length > 0);
        const { manifest: _m, providers, ...rest } = report;
        return {
          data: { ...rest, providers: providers.map((p) => p.provider_id), ok: !failed, strict },
          human: () =>
            [
              report.issues.length > 0 ? renderIssues(report.issues) : "no problems found",
              `${failed ? "FAIL" : "OK"}: ${report.issues.filter((i) => i.severity === "error").length} error(s), ${report.issues.filter((i) => i.severity === "warning").length} warning(s)${strict ? " (strict)" : ""}`,
            ].join("\n"),
          exitCode: failed ? ExitCode.error : ExitCode.ok,
        };
      },
      // Lint reads no state but the installed providers: where there is none, nothing is created.
      { state: "optional" },
    );
  },
});
