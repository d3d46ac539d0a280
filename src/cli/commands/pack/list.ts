import { Type } from "@sinclair/typebox";
import type { PackView } from "../../../packs/packs.js";
import { defineCommand } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPacks = () => import("../../../packs/packs.js");

export const packList = defineCommand({
  name: "list",
  description: "list installed packs",
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay pack list --json",
  action: async (_args, _opts, cmd) => {
    await runReadOnly<{ items: PackView[] }>(cmd, async (ctx) => ({
      data: { items: await (await loadPacks()).listPacks(ctx) },
      human: ({ items }) =>
        items.length === 0
          ? "no packs installed; install one with `relay pack install packs/openai-cn-pack`"
          : table(
              ["PACK", "VERSION", "PROVIDERS", "HOST RANGE", "INSTALLED"],
              items.map((p) => [
                p.pack_id,
                p.version,
                p.providers.join(","),
                p.host.version_range,
                p.installed_at,
              ]),
            ),
    }));
  },
});
