import { Type } from "@sinclair/typebox";
import type { ResourceView } from "../../../reconcile/status.js";
import { defineCommand, option } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadStatus = () => import("../../../reconcile/status.js");

export const providerResources = defineCommand({
  name: "resources",
  description: "every managed resource with its host id, state and origin batch",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [option("--host <host>", "only this host")],
  schema: Type.Object({ host: Type.Optional(Type.String()) }, { additionalProperties: false }),
  help: "\nExample:\n  relay provider resources deepseek --host prod --json",
  action: async ([providerId]: [string], opts, cmd) => {
    await runReadOnly<{ items: ResourceView[] }>(cmd, async (ctx) => {
      const items = await (await loadStatus()).providerResources(ctx, providerId, opts.host);
      return {
        data: { items },
        human: () =>
          table(
            ["TYPE", "NAME", "HOST ID", "STATE", "ORIGIN", "BATCH", "GEN"],
            items.map((r) => [
              r.type,
              r.name,
              r.host_resource_id,
              r.state,
              r.origin,
              r.batch_id,
              r.generation,
            ]),
          ),
      };
    });
  },
});
