import { Type } from "@sinclair/typebox";
import { ExitCode, invalidInput } from "../../../domain/errors.js";
import type { MigrationPlan, MigrationResult } from "../../../provision/migrate.js";
import { defineCommand, option } from "../../define.js";
import { table } from "../../format.js";
import { confirmReviewed, readReviewedPlan, writeReviewedPlan } from "../../plan-review.js";
import { runCommand, runReadOnly } from "../../run.js";

const loadMigrate = () => import("../../../provision/migrate.js");
const KIND = "relay.migration-plan";
const WRITE_IT = "Write it with `relay provider migrate PROVIDER --host HOST --plan-out FILE`.";

/** One line per alias: where the old name went before, and where it goes now. */
export function renderMigrationPlan(plan: MigrationPlan): string {
  const lines = [
    `${plan.provider_id} on ${plan.host_name}, pack ${plan.pack_version}: ${
      plan.renames.length === 0
        ? "the pack renames no model"
        : `renames ${plan.renames.map((r) => `${r.from} → ${r.to}`).join(", ")}`
    }`,
  ];
  if (plan.changes.length === 0) lines.push("nothing to change on the host");
  else {
    lines.push(
      table(
        ["RESOURCE", "NAME", "HOST ID", "MODEL", "BEFORE", "AFTER"],
        plan.changes.flatMap((c) =>
          c.aliases.map((a) => [c.target, c.name, c.host_resource_id, a.from, before(c, a.from), a.to]),
        ),
      ),
    );
    lines.push(
      "every other mapping entry is kept; `relay batch rollback ID` puts the previous mappings back",
    );
  }
  if (plan.unchanged.length > 0)
    lines.push(
      "left as they are:",
      ...plan.unchanged.map((u) => `  ${u.target} ${u.name} (#${u.host_resource_id}): ${u.reason}`),
    );
  return lines.join("\n");
}

function before(c: MigrationPlan["changes"][number], from: string): string {
  if (c.target === "account") return (c.mapping_before as Record<string, string>)[from] ?? "(none)";
  const forPlatform = Object.values(c.mapping_before as Record<string, Record<string, string>>);
  for (const m of forPlatform) {
    const k = Object.keys(m).find((x) => x.toLowerCase() === from.toLowerCase());
    if (k !== undefined) return m[k] ?? "(none)";
  }
  return "(none)";
}

function renderResult(r: MigrationResult): string {
  const head = r.batch_id ? `batch ${r.batch_id}: ${r.status} — ${r.status_reason}` : r.status_reason;
  if (r.changes.length === 0) return head;
  return [
    head,
    table(
      ["RESOURCE", "NAME", "HOST ID", "STATE", "ERROR"],
      r.changes.map((c) => [c.target, c.name, c.host_resource_id, c.state, c.error ?? ""]),
    ),
    ...(r.batch_id ? [`undo: relay batch rollback ${r.batch_id} --yes`] : []),
  ].join("\n");
}

function readMigrationPlan(path: string): MigrationPlan {
  return readReviewedPlan<MigrationPlan>(path, {
    kind: KIND,
    unreadable: "the plan file",
    notOurs: "the plan file is not one `relay provider migrate --plan-out` wrote",
    hint: WRITE_IT,
    accept: (f) => f.version === 1 && /^[0-9a-f]{64}$/.test(String(f.plan?.fingerprint ?? "")),
  });
}

function exitForMigration(status: MigrationResult["status"]): number {
  if (status === "partially_succeeded") return ExitCode.partial;
  if (status === "failed") return ExitCode.error;
  return ExitCode.ok;
}

export const providerMigrate = defineCommand({
  name: "migrate",
  description:
    "after a pack upgrade that renames models: alias each old name to its replacement on the accounts and channel relay made",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    option("--host <host>", "host name or id (required)"),
    option("--dry-run", "show the mapping changes; change nothing"),
    option(
      "--plan-out <file>",
      "write the plan (no secret in it) to review and apply with --plan; change nothing",
    ),
    option("--plan <file>", "apply exactly the plan --plan-out wrote, or refuse when the host changed since"),
    option("--yes", "do not ask for confirmation (required when not on a terminal)"),
  ],
  schema: Type.Object(
    {
      host: Type.Optional(Type.String()),
      dryRun: Type.Optional(Type.Boolean()),
      planOut: Type.Optional(Type.String()),
      plan: Type.Optional(Type.String()),
      yes: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  help: "\nExit codes: 0 migrated (or nothing to migrate, or the dry run shown), 3 partially, 1 failed, 4 busy or the plan is stale.\n\nExamples:\n  relay provider migrate deepseek --host prod --dry-run\n  relay provider migrate deepseek --host prod --plan-out migrate.json\n  relay provider migrate deepseek --host prod --plan migrate.json --yes\n  relay batch rollback BATCH_ID --yes      # the previous mappings back",
  action: async ([providerId]: [string], opts, cmd) => {
    const request = () => {
      if (opts.host === undefined) throw invalidInput("USAGE", "--host is required");
      return { hostRef: opts.host, providerId };
    };
    if (opts.dryRun || opts.planOut) {
      await runReadOnly<MigrationPlan>(cmd, async (ctx) => {
        const req = request();
        const plan = await (await loadMigrate()).previewMigration(ctx, req);
        if (opts.planOut) writeReviewedPlan(opts.planOut, KIND, plan);
        return { data: plan, human: renderMigrationPlan };
      });
      return;
    }
    await runCommand<MigrationResult>(cmd, async (ctx) => {
      const req = request();
      const m = await loadMigrate();
      const reviewed = opts.plan ? readMigrationPlan(opts.plan) : undefined;
      if (reviewed && reviewed.provider_id !== providerId)
        throw invalidInput("PLAN_MISMATCH", `the plan file is for provider ${reviewed.provider_id}`);
      const expectedFingerprint = await confirmReviewed({
        yes: opts.yes,
        fingerprint: reviewed?.fingerprint,
        preview: () => m.previewMigration(ctx, req),
        question: "Apply these mapping changes? [y/N] ",
        render: renderMigrationPlan,
      });
      const result = await m.migrateProvider(ctx, req, expectedFingerprint ? { expectedFingerprint } : {});
      return { data: result, human: renderResult, exitCode: exitForMigration(result.status) };
    });
  },
});
