import { Type } from "@sinclair/typebox";
import type { RollbackPreview } from "../../../provision/rollback.js";
import type { BatchView } from "../../../store/batches.js";
import { printable } from "../../../util/sanitize.js";
import { confirmOrRefuse } from "../../confirm.js";
import { defineCommand, option } from "../../define.js";
import { runCommand, runReadOnly } from "../../run.js";
import { renderBatch, renderRollbackPreview } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadRollback = () => import("../../../provision/rollback.js");

export const batchRollback = defineCommand({
  name: "rollback",
  description:
    "delete what the batch created, in reverse order (a model migration: restore the previous mappings); safe to run again",
  arguments: [["<batch_id>", "batch id, as `relay batch list` shows it"]],
  options: [
    option("--dry-run", "list what would be deleted, in order; change nothing"),
    option("--yes", "do not ask for confirmation (required when not on a terminal)"),
  ],
  schema: Type.Object(
    { dryRun: Type.Optional(Type.Boolean()), yes: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 rolled back (or the dry run listed), 1 refused, cancelled or incomplete (run it again).\n\nExamples:\n  relay batch rollback b_20261121_0a1b2c3d4e --dry-run\n  relay batch rollback b_20261121_0a1b2c3d4e --yes --json",
  action: async ([id]: [string], opts, cmd) => {
    const rollback = await loadRollback();
    if (opts.dryRun) {
      await runReadOnly<RollbackPreview>(cmd, async (ctx) => ({
        data: await rollback.rollbackPreview(ctx, id),
        human: renderRollbackPreview,
      }));
      return;
    }
    await runCommand<BatchView>(cmd, async (ctx) => {
      const preview = await rollback.rollbackPreview(ctx, id);
      const question = preview.would_restore
        ? "Restore these mappings on the host? [y/N] "
        : "Delete these from the host? [y/N] ";
      await confirmOrRefuse(opts.yes === true, question, () =>
        printable(renderRollbackPreview(preview), { lines: true }),
      );
      const started = Date.now();
      const view = await rollback.rollbackBatch(ctx, id, {
        onProgress: (m) => process.stderr.isTTY && process.stderr.write(`  ${printable(m)}\n`),
      });
      return { data: view, human: (b) => `rolled back in ${Date.now() - started} ms\n${renderBatch(b)}` };
    });
  },
});
