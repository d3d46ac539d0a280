import { Type } from "@sinclair/typebox";
import { defineCommand } from "../../define.js";
import { runReadOnly } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPacks = () => import("../../../packs/packs.js");

export const packRemove = defineCommand({
  name: "remove",
  description: "remove an installed pack (refused while a host has records of its providers)",
  arguments: [["<pack_id>", "installed pack id"]],
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExit codes: 0 removed, 1 unknown pack, 4 its providers are still in use.\n\nExample:\n  relay pack remove openai-cn-pack",
  action: async ([packId]: [string], _opts, cmd) => {
    await runReadOnly<{ pack_id: string; removed_versions: number }>(cmd, async (ctx) => {
      const r = await (await loadPacks()).removePack(ctx, packId);
      return { data: r, human: () => `removed pack ${r.pack_id} (${r.removed_versions} version(s))` };
    });
  },
});
