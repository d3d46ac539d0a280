import { Type } from "@sinclair/typebox";
import type { HostView } from "../../../hosts/hosts.js";
import { defineCommand } from "../../define.js";
import { runCommand } from "../../run.js";
import { exitFor, renderHost, say } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadHosts = () => import("../../../hosts/hosts.js");

export const hostProbe = defineCommand({
  name: "probe",
  description: "probe the host again and record a new capability snapshot",
  arguments: [["<host>", "host name or id"]],
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay host probe prod --json",
  action: async ([ref]: [string], _opts, cmd) => {
    await runCommand<HostView>(cmd, async (ctx) => {
      say(`probing ${ref} (reads, and writes the host must refuse)…`);
      const view = await (await loadHosts()).probeHost(ctx, ref);
      return { data: view, human: renderHost, exitCode: exitFor(view) };
    });
  },
});
