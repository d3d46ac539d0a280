import { Type } from "@sinclair/typebox";
import type { BatchView } from "../../../store/batches.js";
import { defineCommand } from "../../define.js";
import { runReadOnly } from "../../run.js";
import { renderBatch } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadBatches = () => import("../../../store/batches.js");

export const batchShow = defineCommand({
  name: "show",
  description: "show a batch: per-key results, resources, probes and timings",
  arguments: [["<batch_id>", "batch id, as `relay batch list` shows it"]],
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay batch show b_20261121_0a1b2c3d4e",
  action: async ([id]: [string], _opts, cmd) => {
    await runReadOnly<BatchView>(cmd, async (ctx) => ({
      data: await (await loadBatches()).getBatch(ctx, id),
      human: renderBatch,
    }));
  },
});
