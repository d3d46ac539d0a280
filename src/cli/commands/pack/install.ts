import { Type } from "@sinclair/typebox";
import type { InstallResult } from "../../../packs/packs.js";
import { defineCommand, option } from "../../define.js";
import { runCommand } from "../../run.js";
import { renderIssues, renderPack } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPacks = () => import("../../../packs/packs.js");

export const packInstall = defineCommand({
  name: "install",
  description: "validate and install a pack (same version: no change; higher: upgrade)",
  arguments: [["<path>", "pack directory or .zip"]],
  options: [option("--force", "allow installing an older version than the one installed")],
  schema: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  help: "\nExample:\n  relay pack install packs/openai-cn-pack\n  relay pack install ./my-pack-1.2.0.zip --json",
  action: async ([path]: [string], opts, cmd) => {
    await runCommand<InstallResult>(cmd, async (ctx) => {
      const result = await (await loadPacks()).installPack(
        ctx,
        { kind: "path", path },
        { force: opts.force === true },
      );
      return {
        data: result,
        human: (r) =>
          [
            `${r.outcome}: ${r.pack.pack_id} ${r.pack.version}${r.previous_version && r.outcome !== "unchanged" ? ` (was ${r.previous_version})` : ""}`,
            renderPack(r.pack),
            ...(r.warnings.length > 0 ? ["", renderIssues(r.warnings)] : []),
          ].join("\n"),
      };
    });
  },
});
