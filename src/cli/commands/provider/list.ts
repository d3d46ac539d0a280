import { Type } from "@sinclair/typebox";
import type { ProviderListItem } from "../../../reconcile/status.js";
import { defineCommand, option } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadStatus = () => import("../../../reconcile/status.js");

export const providerList = defineCommand({
  name: "list",
  description: "providers of the installed packs, with their status on each host",
  options: [option("--host <host>", "only this host")],
  schema: Type.Object({ host: Type.Optional(Type.String()) }, { additionalProperties: false }),
  help: "\nExample:\n  relay provider list --host prod",
  action: async (_args, opts, cmd) => {
    await runReadOnly<{ items: ProviderListItem[] }>(cmd, async (ctx) => {
      const items = await (await loadStatus()).listProviders(ctx, opts.host);
      return {
        data: { items },
        human: () =>
          items.length === 0
            ? "no providers: install a pack with `relay pack install`"
            : table(
                ["PROVIDER", "NAME", "PACK", "HOSTS"],
                items.map((p) => [
                  p.provider_id,
                  p.display_name,
                  p.pack_id,
                  p.hosts
                    .map(
                      (h) =>
                        `${h.host_name}: health=${h.health} sync=${h.sync} status=${h.status}${h.host_reachable === "no" ? " (host unreachable)" : ""}`,
                    )
                    .join(", ") || "-",
                ]),
              ),
      };
    });
  },
});
