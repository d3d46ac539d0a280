import { Type } from "@sinclair/typebox";
import type { HostView } from "../../../hosts/hosts.js";
import { defineCommand } from "../../define.js";
import { runReadOnly } from "../../run.js";
import { renderHost } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadHosts = () => import("../../../hosts/hosts.js");

export const hostShow = defineCommand({
  name: "show",
  description: "show a host with its latest capability snapshot",
  arguments: [["<host>", "host name or id"]],
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay host show prod",
  action: async ([ref]: [string], _opts, cmd) => {
    await runReadOnly<HostView>(cmd, async (ctx) => ({
      data: await (await loadHosts()).getHost(ctx, ref),
      human: renderHost,
    }));
  },
});
