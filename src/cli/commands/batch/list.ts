import { Type } from "@sinclair/typebox";
import type { BatchSummaryView } from "../../../store/batches.js";
import { defineCommand, option } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadBatches = () => import("../../../store/batches.js");
const loadHosts = () => import("../../../store/hosts.js");

export const batchList = defineCommand({
  name: "list",
  description: "list import batches, newest first",
  options: [
    option("--provider <provider_id>", "only this provider"),
    option("--host <host>", "only this host"),
  ],
  schema: Type.Object(
    { provider: Type.Optional(Type.String()), host: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  help: "\nExample:\n  relay batch list --provider deepseek",
  action: async (_args, opts, cmd) => {
    await runReadOnly<{ items: BatchSummaryView[] }>(cmd, async (ctx) => {
      const hostId = opts.host ? (await (await loadHosts()).findHost(ctx, opts.host)).id : undefined;
      const items = await (await loadBatches()).listBatches(ctx, {
        ...(opts.provider ? { providerId: opts.provider } : {}),
        ...(hostId ? { hostId } : {}),
      });
      return {
        data: { items },
        human: () =>
          items.length === 0
            ? "no import batches"
            : table(
                ["BATCH", "PROVIDER", "HOST", "KIND", "MODE", "STATUS", "KEYS", "CREATED", "REASON"],
                items.map((b) => [
                  b.batch_id,
                  b.provider_id,
                  b.host_name,
                  b.kind,
                  b.kind === "model_migration" ? "-" : b.mode,
                  b.status,
                  b.changes === null ? b.keys : `- (${b.changes} mappings)`,
                  b.created_at,
                  b.status_reason,
                ]),
              ),
      };
    });
  },
});
