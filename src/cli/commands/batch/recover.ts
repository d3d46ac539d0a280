import { Type } from "@sinclair/typebox";
import { ExitCode } from "../../../domain/errors.js";
import type { RecoveryOutcome } from "../../../provision/recover.js";
import { defineCommand } from "../../define.js";
import { table } from "../../format.js";
import { runCommand } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadRecover = () => import("../../../provision/recover.js");

export const batchRecover = defineCommand({
  name: "recover",
  description: "finish batches a crash left running (strict: roll back; partial: keep tested accounts)",
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay batch recover --json",
  action: async (_args, _opts, cmd) => {
    await runCommand<{ items: RecoveryOutcome[] }>(cmd, async (ctx) => {
      const items = await (await loadRecover()).recoverBatches(ctx);
      return {
        data: { items },
        human: () =>
          items.length === 0
            ? "nothing to recover"
            : table(
                ["BATCH", "WAS", "NOW", "ACTION", "DETAIL"],
                items.map((o) => [o.batch_id, o.previous_status, o.status, o.action, o.detail]),
              ),
        exitCode: items.some((o) => o.action === "rollback_failed" || o.action === "settle_failed")
          ? ExitCode.error
          : ExitCode.ok,
      };
    });
  },
});
