import { Type } from "@sinclair/typebox";
import type { PackView } from "../../../packs/packs.js";
import { defineCommand } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";
import { renderPack } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPacks = () => import("../../../packs/packs.js");

export const packShow = defineCommand({
  name: "show",
  description: "show an installed pack, its providers and its version history",
  arguments: [["<pack_id>", "installed pack id"]],
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay pack show openai-cn-pack",
  action: async ([packId]: [string], _opts, cmd) => {
    await runReadOnly<PackView & { provider_definitions: unknown[] }>(cmd, async (ctx) => {
      const view = await (await loadPacks()).getPack(ctx, packId);
      const defs = await (await loadPacks()).listPackProviders(ctx, packId);
      return {
        data: { ...view, provider_definitions: defs },
        human: () =>
          [
            renderPack(view),
            "",
            table(
              ["PROVIDER", "NAME", "BASE URL", "REGION", "PLATFORM", "SMOKE MODEL", "MODELS"],
              defs.map((d) => [
                d.provider_id,
                d.display_name,
                d.base_url,
                d.region ?? "-",
                `${d.platforms.preferred}/${d.platforms.fallback}`,
                d.smoke_test_model,
                d.default_models.length,
              ]),
            ),
          ].join("\n"),
      };
    });
  },
});
