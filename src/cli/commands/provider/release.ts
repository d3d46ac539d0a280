import { Type } from "@sinclair/typebox";
import type { ReleaseResult } from "../../../policy/manage.js";
import { printable } from "../../../util/sanitize.js";
import { defineCommand, requiredOption } from "../../define.js";
import { runCommand } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadManage = () => import("../../../policy/manage.js");

export const providerRelease = defineCommand({
  name: "release",
  description:
    "hand control back: enforcement off, every account relay paused resumed, its latches cleared (accounts relay did not pause stay as they are)",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [requiredOption("--host <host>", "host name or id (required)")],
  schema: Type.Object({ host: Type.String() }, { additionalProperties: false }),
  help: "\nExample:\n  relay provider release deepseek --host prod",
  action: async ([providerId]: [string], opts, cmd) => {
    await runCommand<ReleaseResult>(cmd, async (ctx) => {
      const r = await (await loadManage()).releaseProvider(ctx, { hostRef: opts.host, providerId });
      return {
        data: r,
        human: () =>
          [
            `${r.provider_id} on ${r.host_name}: control handed back (enforcement off); ${r.resumed.length} account(s) relay paused are schedulable again`,
            ...r.resumed.map((a) => `  resumed ${printable(a.name)} (#${a.account_id})`),
            ...r.already.map((a) => `  already schedulable or gone: ${printable(a.name)} (#${a.account_id})`),
            ...r.failed.map(
              (a) =>
                `  ✗ host refused ${printable(a.name)} (#${a.account_id}): ${printable(a.error)} — run release again`,
            ),
          ].join("\n"),
        exitCode: r.failed.length > 0 ? 1 : 0,
      };
    });
  },
});
