import { type Static, Type } from "@sinclair/typebox";
import { ExitCode, invalidInput } from "../../../domain/errors.js";
import type { RotationSelector } from "../../../domain/rotation.js";
import type { RotateRequest, RotationPlan, RotationResult } from "../../../provision/rotate.js";
import { printable } from "../../../util/sanitize.js";
import { defineCommand, option, requiredOption } from "../../define.js";
import { table } from "../../format.js";
import { confirmReviewed, readReviewedPlan, writeReviewedPlan } from "../../plan-review.js";
import { runCommand, runReadOnly } from "../../run.js";
import { renderTriage } from "../../triage-render.js";
import { exitForBatch } from "./import-render.js";
import { readKeysFile } from "./keys.js";

const loadRotate = () => import("../../../provision/rotate.js");
const PLAN_KIND = "relay-rotation-plan";

/** `revoked`, `balance_empty`, or account ids `12,14`. */
export function parseSelector(value: string | undefined): RotationSelector | undefined {
  if (value === undefined) return undefined;
  if (value === "revoked" || value === "balance_empty") return value;
  if (/^\d{1,12}(,\d{1,12})*$/.test(value)) return value.split(",").map(Number);
  throw invalidInput("ACCOUNTS_INVALID", "--accounts takes revoked, balance_empty or account ids (12,14)");
}

function parallel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,2}$/.test(value))
    throw invalidInput("MAX_PARALLEL_INVALID", "--max-parallel takes a whole number from 1 to 16");
  return Number(value);
}

/** A rotation plan for people: each account with its old and new key (fingerprints and masks only). */
export function renderRotationPlan(p: RotationPlan): string {
  const lines = [
    `rotation of ${p.provider_id} accounts on host ${p.host_name} (${p.host_version}): ${p.accounts_selector}, at most ${p.max_parallel} of a group at a time, tested with ${p.smoke_model}`,
    "",
    p.accounts.length === 0
      ? "no account chosen"
      : table(
          ["ACCOUNT", "ID", "WHY", "PAUSED BY", "OLD KEY", "NEW KEY", "AFTER", "IF THE NEW KEY FAILS"],
          p.accounts.map((a) => [
            printable(a.name),
            a.account_id,
            a.why,
            a.paused_by ?? "-",
            a.old_key,
            a.new_key ? `${a.new_key} ${a.new_key_fingerprint} (line ${a.new_key_line})` : "none",
            a.after_success,
            a.on_failure === "old_key_restored" ? "old key put back" : "left paused on the new key",
          ]),
        ),
    "",
    table(
      ["LINE", "NEW KEY", "CLASS", "USE", "REASON"],
      p.new_keys.map((k) => [k.line, `${k.key} ${k.fingerprint}`, k.class, k.use, printable(k.reason)]),
    ),
    ...renderTriage(p.triage),
    `${p.summary.chosen} account(s) chosen, ${p.summary.ready_keys} ready new key(s), ${p.summary.with_old_key} with their old key given, ${p.summary.spare_keys} spare`,
  ];
  for (const w of p.warnings) lines.push(`! ${w}`);
  for (const r of p.blocked_reasons) lines.push(`✗ ${r}`);
  lines.push(`fingerprint ${p.fingerprint}`);
  return lines.join("\n");
}

export function renderRotation(r: RotationResult): string {
  const s = r.summary;
  return [
    `batch ${r.batch_id}: ${r.status.toUpperCase()} — ${r.status_reason}`,
    `${s.rotated} rotated, ${s.restored} put back on their old key, ${s.failed} failed`,
    "",
    table(
      ["ID", "ACCOUNT", "OLD KEY", "NEW KEY", "OUTCOME", "SCHEDULABLE", "DETAIL"],
      r.accounts.map((a) => [
        a.account_id,
        printable(a.name),
        a.old_key,
        a.new_key,
        a.outcome,
        a.schedulable === null ? "?" : String(a.schedulable),
        printable(a.error ? `${a.detail} (${a.error})` : a.detail),
      ]),
    ),
    ...r.warnings.map((w) => `! ${w}`),
    `Every account and event: \`relay batch show ${r.batch_id}\` (or --json).`,
  ].join("\n");
}

function readRotationPlan(path: string): RotationPlan {
  return readReviewedPlan<RotationPlan>(path, {
    kind: PLAN_KIND,
    unreadable: "the rotation plan file",
    notOurs: "not a rotation plan written by `relay provider rotate --plan-out`",
    accept: (f) => typeof f.plan?.fingerprint === "string",
  });
}

const RotateFlags = Type.Object(
  {
    host: Type.Optional(Type.String()),
    keysFile: Type.String(),
    oldKeysFile: Type.Optional(Type.String()),
    accounts: Type.Optional(Type.String()),
    maxParallel: Type.Optional(Type.String()),
    dryRun: Type.Optional(Type.Boolean()),
    planOut: Type.Optional(Type.String()),
    plan: Type.Optional(Type.String()),
    yes: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

async function requestFrom(
  providerId: string,
  opts: Static<typeof RotateFlags>,
): Promise<{ req: RotateRequest; fingerprint?: string }> {
  const plan = opts.plan !== undefined ? readRotationPlan(opts.plan) : undefined;
  const host = opts.host ?? plan?.host_id;
  if (!host) throw invalidInput("USAGE", "--host is required (or --plan FILE)");
  const accounts = parseSelector(opts.accounts ?? plan?.accounts_selector);
  const maxParallel = parallel(opts.maxParallel) ?? plan?.max_parallel;
  const req: RotateRequest = {
    hostRef: host,
    providerId,
    keys: await readKeysFile(opts.keysFile),
    ...(opts.oldKeysFile !== undefined ? { oldKeys: await readKeysFile(opts.oldKeysFile) } : {}),
    ...(accounts ? { accounts } : {}),
    ...(maxParallel ? { maxParallel } : {}),
  };
  return { req, ...(plan ? { fingerprint: plan.fingerprint } : {}) };
}

export const providerRotate = defineCommand({
  name: "rotate",
  description:
    "replace the keys of accounts relay made, in place: same account ids, group bindings and subscriptions",
  arguments: [["<provider_id>", "provider from an installed pack"]],
  options: [
    option("--host <host>", "host name or id (required without --plan)"),
    requiredOption(
      "--keys-file <path>",
      "the new keys, one per line (`-` reads stdin); only keys the upstream accepts are used (required)",
    ),
    option(
      "--old-keys-file <path>",
      "the accounts' current keys: a new key that fails its account test is replaced by the old one again (without it the account is left paused on the new key)",
    ),
    option("--accounts <which>", "revoked (default), balance_empty, or account ids 12,14"),
    option("--max-parallel <k>", "accounts of one group rotated at a time (default 1)"),
    option("--dry-run", "show the plan: each account and the new key it would get; writes nothing"),
    option(
      "--plan-out <file>",
      "write the plan (no key material) for `--plan FILE`; writes nothing on the host",
    ),
    option("--plan <file>", "apply the plan `--plan-out` wrote, or refuse if the host or the keys changed"),
    option("--yes", "do not ask for confirmation"),
  ],
  schema: RotateFlags,
  help: "\nEach new key is shown to its upstream through the host first (nothing written); then written, and the account tested.\nExit codes: 0 all rotated, 3 some put back or failed, 1 error, 4 blocked (fewer ready keys than accounts) or busy.\n\nExamples:\n  relay provider rotate deepseek --host prod --keys-file new.keys --old-keys-file old.keys --dry-run\n  relay provider rotate deepseek --host prod --keys-file new.keys --old-keys-file old.keys --accounts revoked --yes",
  action: async ([providerId]: [string], opts, cmd) => {
    if (opts.dryRun === true || opts.planOut !== undefined) {
      await runReadOnly<RotationPlan>(cmd, async (ctx) => {
        const { req } = await requestFrom(providerId, opts);
        const plan = await (await loadRotate()).previewRotation(ctx, req);
        if (opts.planOut !== undefined) writeReviewedPlan(opts.planOut, PLAN_KIND, plan);
        return {
          data: plan,
          human: renderRotationPlan,
          exitCode: plan.blocked ? ExitCode.conflict : ExitCode.ok,
        };
      });
      return;
    }
    await runCommand<RotationResult>(cmd, async (ctx) => {
      const { req, fingerprint } = await requestFrom(providerId, opts);
      const rotate = await loadRotate();
      const expectedFingerprint = await confirmReviewed({
        yes: opts.yes,
        keysFromStdin: opts.keysFile === "-" || opts.oldKeysFile === "-",
        fingerprint,
        preview: () => rotate.previewRotation(ctx, req),
        question: "Rotate these keys? [y/N] ",
        render: renderRotationPlan,
      });
      const result = await rotate.rotateKeys(ctx, req, expectedFingerprint ? { expectedFingerprint } : {});
      return { data: result, human: renderRotation, exitCode: exitForBatch(result.status) };
    });
  },
});
