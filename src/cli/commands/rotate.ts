import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { ExitCode, invalidInput } from "../../domain/errors.js";
import type { RotationSelector } from "../../domain/rotation.js";
import type { RotateRequest, RotationPlan, RotationResult } from "../../provision/rotate.js";
import { FileRefused, readBoundedFile } from "../../util/bounded-read.js";
import { printable } from "../../util/sanitize.js";
import { confirmOrRefuse } from "../confirm.js";
import { table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";
import { renderTriage } from "../triage-render.js";
import { exitForBatch, readKeysFile } from "./provider.js";

const loadRotate = () => import("../../provision/rotate.js");
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
  let parsed: { kind?: unknown; plan?: RotationPlan };
  try {
    parsed = JSON.parse(readBoundedFile(path, 4 * 1024 * 1024).toString("utf8"));
  } catch (err) {
    const why = err instanceof FileRefused ? err.message : "it is not JSON";
    throw invalidInput("PLAN_FILE_INVALID", `cannot use the rotation plan file: ${why}`);
  }
  if (parsed?.kind !== PLAN_KIND || typeof parsed.plan?.fingerprint !== "string")
    throw invalidInput(
      "PLAN_FILE_INVALID",
      "not a rotation plan written by `relay provider rotate --plan-out`",
    );
  return parsed.plan;
}

async function requestFrom(
  providerId: string,
  opts: Record<string, unknown>,
): Promise<{ req: RotateRequest; fingerprint?: string }> {
  const plan = typeof opts.plan === "string" ? readRotationPlan(opts.plan) : undefined;
  const host = (opts.host as string | undefined) ?? plan?.host_id;
  if (!host) throw invalidInput("USAGE", "--host is required (or --plan FILE)");
  const accounts = parseSelector((opts.accounts as string | undefined) ?? plan?.accounts_selector);
  const maxParallel = parallel(opts.maxParallel as string | undefined) ?? plan?.max_parallel;
  const req: RotateRequest = {
    hostRef: host,
    providerId,
    keys: await readKeysFile(opts.keysFile as string),
    ...(typeof opts.oldKeysFile === "string" ? { oldKeys: await readKeysFile(opts.oldKeysFile) } : {}),
    ...(accounts ? { accounts } : {}),
    ...(maxParallel ? { maxParallel } : {}),
  };
  return { req, ...(plan ? { fingerprint: plan.fingerprint } : {}) };
}

export function configureRotateCommand(provider: Command) {
  provider
    .command("rotate")
    .argument("<provider_id>", "provider from an installed pack")
    .option("--host <host>", "host name or id (required without --plan)")
    .requiredOption(
      "--keys-file <path>",
      "the new keys, one per line (`-` reads stdin); only keys the upstream accepts are used (required)",
    )
    .option(
      "--old-keys-file <path>",
      "the accounts' current keys: a new key that fails its account test is replaced by the old one again (without it the account is left paused on the new key)",
    )
    .option("--accounts <which>", "revoked (default), balance_empty, or account ids 12,14")
    .option("--max-parallel <k>", "accounts of one group rotated at a time (default 1)")
    .option("--dry-run", "show the plan: each account and the new key it would get; writes nothing")
    .option(
      "--plan-out <file>",
      "write the plan (no key material) for `--plan FILE`; writes nothing on the host",
    )
    .option("--plan <file>", "apply the plan `--plan-out` wrote, or refuse if the host or the keys changed")
    .option("--yes", "do not ask for confirmation")
    .description(
      "replace the keys of accounts relay made, in place: same account ids, group bindings and subscriptions",
    )
    .addHelpText(
      "after",
      "\nEach new key is shown to its upstream through the host first (nothing written); then written, and the account tested.\nExit codes: 0 all rotated, 3 some put back or failed, 1 error, 4 blocked (fewer ready keys than accounts) or busy.\n\nExamples:\n  relay provider rotate deepseek --host prod --keys-file new.keys --old-keys-file old.keys --dry-run\n  relay provider rotate deepseek --host prod --keys-file new.keys --old-keys-file old.keys --accounts revoked --yes",
    )
    .action(async (providerId: string, opts: Record<string, unknown>, cmd: Command) => {
      if (opts.dryRun === true || typeof opts.planOut === "string") {
        await runReadOnly<RotationPlan>(cmd, async (ctx) => {
          const { req } = await requestFrom(providerId, opts);
          const plan = await (await loadRotate()).previewRotation(ctx, req);
          if (typeof opts.planOut === "string")
            writeFileSync(
              opts.planOut,
              `${JSON.stringify({ kind: PLAN_KIND, version: 1, plan }, null, 2)}\n`,
              { mode: 0o600 },
            );
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
        let expectedFingerprint = fingerprint;
        if (opts.yes !== true && (opts.keysFile === "-" || opts.oldKeysFile === "-"))
          throw invalidInput("CONFIRMATION_REQUIRED", "add --yes when the keys come from standard input");
        const rotate = await loadRotate();
        if (opts.yes !== true) {
          const plan = await rotate.previewRotation(ctx, req);
          await confirmOrRefuse(false, "Rotate these keys? [y/N] ", () =>
            printable(renderRotationPlan(plan), { lines: true }),
          );
          expectedFingerprint ??= plan.fingerprint;
        }
        const result = await rotate.rotateKeys(ctx, req, expectedFingerprint ? { expectedFingerprint } : {});
        return { data: result, human: renderRotation, exitCode: exitForBatch(result.status) };
      });
    });
}
