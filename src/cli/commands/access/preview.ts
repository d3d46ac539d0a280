import { Type } from "@sinclair/typebox";
import type { AccessPreview } from "../../../access/subscriptions.js";
import { defineCommand, option, requiredOption, SubscriptionTargets } from "../../define.js";
import { parseUserTarget, table } from "../../format.js";
import { runReadOnly } from "../../run.js";
import { targets } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadSubscriptions = () => import("../../../access/subscriptions.js");

export const accessPreview = defineCommand({
  name: "preview",
  description: "who would be assigned, who already has access, what the probe will do (read-only)",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    requiredOption("--host <host>", "host name or id (required)"),
    option("--subscribe <user[:days]>", "user to subscribe, with validity days (repeatable)").argParser(
      parseUserTarget,
    ),
    option("--user <user[:days]>", "former name of --subscribe").argParser(parseUserTarget).hideHelp(),
  ],
  schema: Type.Object(
    { host: Type.String(), subscribe: SubscriptionTargets, user: SubscriptionTargets },
    { additionalProperties: false },
  ),
  help: "\nExample:\n  relay access preview deepseek --host prod --user 42:30 --user 43",
  action: async ([providerId]: [string], opts, cmd) => {
    await runReadOnly<AccessPreview>(cmd, async (ctx) => {
      const p = await (await loadSubscriptions()).previewAccess(ctx, {
        hostRef: opts.host,
        providerId,
        users: targets(opts),
      });
      return {
        data: p,
        human: () =>
          [
            `group: ${p.group ? `${p.group.name} (#${p.group.id}, ${p.group.subscription_type})` : "none — import the provider first"}`,
            `already subscribed: ${p.already_subscribed.join(", ") || "nobody"}`,
            p.assign.length > 0
              ? table(
                  ["USER", "DAYS", "ACTION", "REASON"],
                  p.assign.map((a) => [a.user_id, a.validity_days, a.action, a.reason]),
                )
              : "",
            "probe:",
            ...p.probe.steps.map((s, i) => `  ${i + 1}. ${s}`),
          ].join("\n"),
      };
    });
  },
});
