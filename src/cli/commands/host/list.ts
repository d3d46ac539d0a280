import { Type } from "@sinclair/typebox";
import type { HostView } from "../../../hosts/hosts.js";
import { defineCommand } from "../../define.js";
import { table } from "../../format.js";
import { runReadOnly } from "../../run.js";
import { hostState } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadHosts = () => import("../../../hosts/hosts.js");

export const hostList = defineCommand({
  name: "list",
  description: "list registered hosts",
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nExample:\n  relay host list --json",
  action: async (_args, _opts, cmd) => {
    await runReadOnly<{ items: HostView[] }>(cmd, async (ctx) => ({
      data: { items: await (await loadHosts()).listHosts(ctx) },
      human: ({ items }) =>
        items.length === 0
          ? "no hosts registered; add one with `relay host add`"
          : table(
              ["NAME", "STATUS", "REACHABLE", "VERSION", "PROFILE", "URL", "LAST PROBE OK", "LAST ERROR"],
              items.map((h) => [
                h.name,
                hostState(h),
                h.reachable,
                h.version,
                h.profile,
                h.base_url,
                h.last_probe_ok_at,
                h.last_error ? `${h.last_error.code}: ${h.last_error.message}` : null,
              ]),
            ),
    }));
  },
});
