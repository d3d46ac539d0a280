import { type Command, Option } from "commander";
import { ExitCode, invalidInput } from "../../domain/errors.js";
import type { SubscriptionTarget } from "../../domain/plan.js";
import type { ImportResult } from "../../provision/import.js";
import type { ImportPlan, ImportRequest } from "../../provision/types.js";
import { FileRefused, readBoundedFd, readBoundedFile } from "../../util/bounded-read.js";
import { printable } from "../../util/sanitize.js";
import { confirmOrRefuse } from "../confirm.js";
import { parseUserTarget, table } from "../format.js";
import { readPlanFile, requestFromPlan, writePlanFile } from "../plan-file.js";
import { importProgress } from "../progress.js";
import { globalOptions, runCommand, runReadOnly } from "../run.js";
import { renderPlanTriage, renderTriage } from "../triage-render.js";
import { configureMigrateCommand } from "./migrate.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadImport = () => import("../../provision/import.js");
const loadPreview = () => import("../../provision/preview.js");

const MAX_KEY_FILE_BYTES = 8 * 1024 * 1024;

/** Keys come from a file or stdin (`-`) only, never from argv. */
export async function readKeysFile(path: string): Promise<Buffer> {
  const where = path === "-" ? "standard input" : "the key file";
  try {
    return path === "-" ? readBoundedFd(0, MAX_KEY_FILE_BYTES) : readBoundedFile(path, MAX_KEY_FILE_BYTES);
  } catch (err) {
    if (!(err instanceof FileRefused)) throw err;
    // The message names what is wrong, never the path: it may be a secret passed by mistake.
    const code = err.reason === "too_large" ? "KEYS_FILE_TOO_LARGE" : "KEYS_FILE_UNREADABLE";
    throw invalidInput(code, `cannot use ${where}: ${err.message}`, {
      hint: "Give a regular text file with one key per line (at most 8 MiB), or `-` to read standard input.",
    });
  }
}

/** The import request from the flags, or from a plan file (then with the fingerprint it binds). */
async function requestFrom(
  providerId: string,
  opts: Record<string, unknown>,
): Promise<{ req: ImportRequest; fingerprint?: string; reviewed?: ImportPlan }> {
  if (typeof opts.plan === "string") {
    const file = readPlanFile(opts.plan);
    const bound = requestFromPlan(file, providerId, {
      ...(typeof opts.host === "string" ? { host: opts.host } : {}),
      ...(typeof opts.mode === "string" ? { mode: opts.mode } : {}),
      ...(typeof opts.accessMode === "string" ? { accessMode: opts.accessMode } : {}),
      ...(opts.subscribe ? { subscribe: opts.subscribe as SubscriptionTarget[] } : {}),
      ...(opts.withPlan === true ? { withPlan: true } : {}),
    });
    const keys = await readKeysFile(opts.keysFile as string);
    const precheck = typeof opts.precheck === "boolean" ? { precheck: opts.precheck } : {};
    return { req: { ...bound, keys, ...precheck }, fingerprint: file.plan.fingerprint, reviewed: file.plan };
  }
  if (typeof opts.host !== "string") throw invalidInput("USAGE", "--host is required (or --plan FILE)");
  if (typeof opts.mode !== "string")
    throw invalidInput("USAGE", "--mode strict|partial is required (or --plan FILE)");
  const req: ImportRequest = {
    hostRef: opts.host as string,
    providerId,
    keys: await readKeysFile(opts.keysFile as string),
    mode: (opts.mode as "strict" | "partial" | undefined) ?? "strict",
    ...(opts.accessMode ? { accessMode: opts.accessMode as "subscription" | "self-service" } : {}),
    subscribe: (opts.subscribe as SubscriptionTarget[] | undefined) ?? [],
    withPlan: opts.withPlan === true,
    ...(typeof opts.precheck === "boolean" ? { precheck: opts.precheck } : {}),
  };
  return { req };
}

/** Preview's exit code: 0 unless asked for detail (terraform's -detailed-exitcode), 4 on conflicts. */
function previewExit(plan: ImportPlan, detailed: boolean): number {
  if (plan.blocked && plan.no_usable_key && plan.blocked_reasons.length === 1) return ExitCode.error;
  if (plan.blocked) return ExitCode.conflict;
  const changes = plan.summary.create > 0 || plan.subscriptions.some((s) => s.action === "create");
  return detailed && changes ? ExitCode.drift : ExitCode.ok;
}

/**
 * A plan for people. `exceptions`: only the keys that will not simply be created or reused (the
 * confirmation before an import, which must stay short for hundreds of keys).
 */
export function renderPlan(plan: ImportPlan, keys: "all" | "exceptions" = "all"): string {
  const shown =
    keys === "all" ? plan.keys : plan.keys.filter((k) => k.action !== "create" && k.action !== "reuse");
  const lines = [
    `provider ${plan.provider_id} (pack ${plan.pack_version}) → host ${plan.host_name} (${plan.host_version}), mode ${plan.mode}, generation ${plan.generation}`,
    `mapping: platform ${plan.mapping.platform}${plan.mapping.via_fallback ? " (fallback: force_chat_completions)" : ""}, base URL ${plan.mapping.base_url}`,
    "",
    table(
      ["RESOURCE", "NAME", "ACTION", "REASON"],
      plan.resources.map((r) => [r.type, r.name, r.action, r.reason]),
    ),
    ...(shown.length > 0
      ? [
          "",
          table(
            ["LINE", "KEY", "ACCOUNT", "ACTION", "REASON"],
            shown.map((k) => [k.line, k.key, k.account_name, k.action, k.reason]),
          ),
        ]
      : []),
  ];
  if (plan.subscriptions.length > 0) {
    lines.push(
      "",
      table(
        ["USER", "DAYS", "ACTION", "REASON"],
        plan.subscriptions.map((s) => [s.user_id, s.validity_days, s.action, s.reason]),
      ),
    );
  }
  const s = plan.summary;
  const subs = (a: string) => plan.subscriptions.filter((x) => x.action === a).length;
  lines.push(
    "",
    `${s.keys} key(s): ${s.create} create, ${s.reuse} reuse, ${s.conflict} conflict, ${s.skip} skip (resources and keys); ${s.duplicates} duplicate(s) and ${s.ignored_lines} blank/comment line(s) ignored`,
  );
  if (plan.subscriptions.length > 0)
    lines.push(
      `${plan.subscriptions.length} subscription target(s): ${subs("create")} assign, ${subs("reuse")} already subscribed, ${subs("conflict")} conflict, ${subs("skip")} skip`,
    );
  lines.push(...renderPlanTriage(plan.key_triage));
  for (const w of plan.warnings) lines.push(`! ${w}`);
  if (plan.blocked) lines.push(...plan.blocked_reasons.map((r) => `✗ ${r}`));
  lines.push(`fingerprint ${plan.fingerprint}`);
  return lines.join("\n");
}

/** An import's answer for people: the verdict and counts, then only what failed (by key-file line). */
export function renderImport(r: ImportResult): string {
  const s = r.summary;
  const lines = [
    `batch ${r.batch_id}: ${r.status.toUpperCase()} — ${r.status_reason}`,
    `provider status: ${r.provider_status}; access: ${r.access_closure_status}`,
    `${r.keys.length} key(s): ${s.working} working (${s.reused} reused), ${s.failed} failed, ${s.skipped} skipped`,
  ];
  const failed = r.keys.filter((k) => k.status === "failed" || k.status === "skipped");
  if (failed.length > 0)
    lines.push(
      "",
      table(
        ["LINE", "KEY", "STATUS", "ERROR"],
        failed.map((k) => [k.line, k.key, k.status, k.error ? `${k.error_code}: ${k.error}` : k.error_code]),
      ),
    );
  const refused = r.subscriptions.filter((x) => x.status === "failed");
  if (refused.length > 0)
    lines.push(
      "",
      table(
        ["USER", "SUBSCRIPTION", "REASON"],
        refused.map((x) => [x.user_id, x.status, x.reason]),
      ),
    );
  lines.push(...renderTriage(r.triage));
  for (const w of r.warnings) lines.push(`! ${w}`);
  if (r.status === "rolled_back" || r.status === "failed")
    lines.push("", `Nothing of this batch remains on the host.`);
  lines.push(`Every key and resource: \`relay batch show ${r.batch_id}\` (or --json).`);
  return lines.join("\n");
}

export function exitForBatch(status: string): number {
  if (status === "succeeded") return ExitCode.ok;
  if (status === "partially_succeeded") return ExitCode.partial;
  return ExitCode.error;
}

function importOptions(cmd: Command, forImport: boolean): Command {
  cmd
    .option(
      "--host <host>",
      forImport ? "host name or id (required without --plan)" : "host name or id (required)",
    )
    .requiredOption(
      "--keys-file <path>",
      "file with one key per line (`-` reads stdin); # comments and blank lines are ignored (required)",
    )
    .addOption(
      forImport
        ? new Option(
            "--mode <mode>",
            "strict: any failure rolls back; partial: keep what works (required without --plan)",
          ).choices(["strict", "partial"])
        : new Option("--mode <mode>", "strict: any failure rolls back; partial: keep what works")
            .choices(["strict", "partial"])
            .default("strict"),
    )
    .addOption(
      new Option("--access-mode <mode>", "how users will reach the provider").choices([
        "subscription",
        "self-service",
      ]),
    )
    .option(
      "--with-plan",
      "also create a payment plan when the host has the payment module and the pack defines one",
    );
  return cmd;
}

export function configureProviderCommand(program: Command): Command {
  const provider = program.command("provider").description("preview and import provider keys");

  importOptions(
    provider.command("preview").argument("<provider_id>", "provider from an installed pack"),
    false,
  )
    .option("--subscribe <user[:days]>", "user to subscribe (repeatable)", parseUserTarget)
    .option("--out <file>", "also write the plan (no key material) for `relay provider import --plan FILE`")
    .option("--detailed-exitcode", "exit 2 when the plan has changes (0 when it has none)")
    .option(
      "--precheck",
      "also show each new key to its upstream through the host's model preview and classify it (ready, revoked, balance_empty, wrong_region, rate_limited, unknown); writes nothing",
    )
    .description("show what an import would do; reads the host, writes nothing on it")
    .addHelpText(
      "after",
      "\nExit codes: 0 plan ready (with --detailed-exitcode: no changes), 2 changes pending (--detailed-exitcode only), 1 error or no usable key, 4 the plan conflicts with the host.\n\nExamples:\n  relay provider preview deepseek --host prod --keys-file ./deepseek.keys --mode partial\n  relay provider preview deepseek --host prod --keys-file ./deepseek.keys --mode strict --out plan.json",
    )
    .action(async (providerId: string, opts: Record<string, unknown>, cmd: Command) => {
      await runReadOnly<ImportPlan>(cmd, async (ctx) => {
        const { req } = await requestFrom(providerId, { mode: "strict", ...opts });
        const { plan, internals } = await (await loadPreview()).buildPlan(ctx, req);
        if (opts.precheck === true)
          plan.key_triage = await (await import("../../provision/precheck.js")).previewTriage(
            ctx,
            internals,
            plan,
          );
        if (typeof opts.out === "string") writePlanFile(opts.out, req, plan);
        return { data: plan, human: renderPlan, exitCode: previewExit(plan, opts.detailedExitcode === true) };
      });
    });

  importOptions(provider.command("import").argument("<provider_id>", "provider from an installed pack"), true)
    .option("--subscribe <user[:days]>", "assign a subscription to this user (repeatable)", parseUserTarget)
    .option(
      "--precheck",
      "check every new key with its upstream before any host write (default for --mode partial, on hosts with sync-upstream-preview)",
    )
    .option("--no-precheck", "do not pre-check keys; each key's account test decides")
    .option(
      "--plan <file>",
      "apply exactly the plan `relay provider preview --out` wrote, or refuse before any write",
    )
    .option("--yes", "do not ask for confirmation")
    .description("import keys: create group, channel, plan, accounts; test each account; subscribe users")
    .addHelpText(
      "after",
      "\nExit codes: 0 succeeded, 3 partially succeeded, 1 failed (rolled back) or no usable key, 4 another import is running, the plan conflicts, or the host or inputs changed since --plan was written.\n\nExamples:\n  relay provider import deepseek --host prod --keys-file ./deepseek.keys --mode partial --subscribe 42:30 --yes\n  relay provider import deepseek --plan plan.json --keys-file ./deepseek.keys --yes",
    )
    .action(async (providerId: string, opts: Record<string, unknown>, cmd: Command) => {
      const json = globalOptions(cmd).json === true;
      await runCommand<ImportResult>(cmd, async (ctx) => {
        const { req, fingerprint, reviewed } = await requestFrom(providerId, opts);
        let expectedFingerprint = fingerprint;
        if (opts.yes !== true && opts.keysFile === "-")
          throw invalidInput("CONFIRMATION_REQUIRED", "add --yes when the keys come from standard input");
        if (opts.yes !== true) {
          const { plan } = await (await loadPreview()).buildPlan(ctx, req);
          await confirmOrRefuse(false, "Proceed with this import? [y/N] ", () =>
            printable(renderPlan(plan, "exceptions"), { lines: true }),
          );
          // What runs is what was shown: the import refuses if the host changed in between.
          expectedFingerprint ??= plan.fingerprint;
        }
        const progress = importProgress({ json });
        const result = await (await loadImport())
          .importKeys(ctx, req, {
            onProgress: progress.onProgress,
            ...(expectedFingerprint ? { expectedFingerprint } : {}),
            // The file's body is checked against its fingerprint: an edited plan is refused.
            ...(reviewed ? { reviewedPlan: reviewed } : {}),
          })
          .finally(progress.stop);
        return { data: result, human: renderImport, exitCode: exitForBatch(result.status) };
      });
    });
  configureMigrateCommand(provider);
  return provider;
}
