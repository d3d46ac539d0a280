import { Type } from "@sinclair/typebox";
import type { HostRemoval } from "../../../hosts/hosts.js";
import { confirmOrRefuse } from "../../confirm.js";
import { defineCommand, option } from "../../define.js";
import { runCommand } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadHosts = () => import("../../../hosts/hosts.js");

export const hostRemove = defineCommand({
  name: "remove",
  description: "remove a host from relay and forget its records; never changes anything on the host",
  arguments: [["<host>", "host name or id"]],
  options: [
    option(
      "--force",
      "forget the host even though resources relay made are live there (they stay on the host)",
    ),
    option("--yes", "do not ask for confirmation (required when not on a terminal)"),
  ],
  schema: Type.Object(
    { force: Type.Optional(Type.Boolean()), yes: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 removed, 1 refused or cancelled, 4 resources relay made are still live there (roll back, or --force).\n\nExample:\n  relay host remove staging --yes",
  action: async ([ref]: [string], opts, cmd) => {
    await runCommand<HostRemoval>(cmd, async (ctx) => {
      const hosts = await loadHosts();
      const host = await hosts.getHost(ctx, ref);
      await confirmOrRefuse(
        opts.yes === true,
        `Remove host ${host.name}? [y/N] `,
        () => `relay forgets host ${host.name} (${host.base_url}) and everything it recorded there`,
      );
      const r = await hosts.removeHost(ctx, ref, { force: opts.force === true });
      return {
        data: r,
        human: () =>
          `removed host ${r.name}${r.live_resources_forgotten > 0 ? `; ${r.live_resources_forgotten} resource(s) relay made stay on the host, no longer tracked` : ""}`,
      };
    });
  },
});
