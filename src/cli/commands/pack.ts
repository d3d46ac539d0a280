import type { Command } from "commander";
import { ExitCode, invalidInput, isAppError } from "../../domain/errors.js";
import { parseIsoDay } from "../../domain/pack/lifecycle.js";
import type { PackIssue, PackReport } from "../../domain/pack/validate.js";
import type { InstallResult, PackView } from "../../packs/packs.js";
import { keyValues, table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadPacks = () => import("../../packs/packs.js");

type LintView = Omit<PackReport, "manifest" | "providers"> & { providers: string[]; strict: boolean };

export function renderIssues(issues: PackIssue[]): string {
  return issues
    .map(
      (i) =>
        `${i.severity === "error" ? "✗" : "!"} ${i.code.padEnd(34)} ${i.file ?? ""}${i.pointer && i.pointer !== "/" ? `#${i.pointer}` : ""}  ${i.message}`,
    )
    .join("\n");
}

function renderPack(p: PackView): string {
  return [
    keyValues([
      ["pack", `${p.pack_id} ${p.version}`],
      ["name", p.name],
      ["host range", `${p.host.app} ${p.host.version_range}`],
      ["providers", p.providers.join(", ")],
      ["installed", p.installed_at],
      ["source", p.source],
    ]),
    "",
    `history: ${p.history.map((h) => `${h.version}${h.current ? " (current)" : ""}`).join(", ")}`,
  ].join("\n");
}

/** `--as-of`: a calendar day, read as UTC midnight. */
function parseDay(text: string): Date {
  const day = parseIsoDay(text);
  if (!day) throw invalidInput("AS_OF_INVALID", `--as-of "${text}" is not a day (YYYY-MM-DD)`);
  return day;
}

export function configurePackCommand(program: Command) {
  const pack = program.command("pack").description("install and inspect model packs");

  pack
    .command("install")
    .argument("<path>", "pack directory or .zip")
    .option("--force", "allow installing an older version than the one installed")
    .description("validate and install a pack (same version: no change; higher: upgrade)")
    .addHelpText(
      "after",
      "\nExample:\n  relay pack install packs/openai-cn-pack\n  relay pack install ./my-pack-1.2.0.zip --json",
    )
    .action(async (path: string, opts: { force?: boolean }, cmd: Command) => {
      await runCommand<InstallResult>(cmd, async (ctx) => {
        const result = await (await loadPacks()).installPack(
          ctx,
          { kind: "path", path },
          { force: opts.force === true },
        );
        return {
          data: result,
          human: (r) =>
            [
              `${r.outcome}: ${r.pack.pack_id} ${r.pack.version}${r.previous_version && r.outcome !== "unchanged" ? ` (was ${r.previous_version})` : ""}`,
              renderPack(r.pack),
              ...(r.warnings.length > 0 ? ["", renderIssues(r.warnings)] : []),
            ].join("\n"),
        };
      });
    });

  pack
    .command("lint")
    .argument("<path>", "pack directory or .zip")
    .option("--strict", "treat warnings as errors")
    .option("--as-of <date>", "judge model retirement dates as of this day (YYYY-MM-DD; default today)")
    .description("validate a pack without installing it; reports every problem at once")
    .addHelpText(
      "after",
      "\nExample:\n  relay pack lint packs/openai-cn-pack --strict\n  relay pack lint packs/openai-cn-pack --as-of 2027-01-01",
    )
    .action(async (path: string, opts: { strict?: boolean; asOf?: string }, cmd: Command) => {
      await runCommand<LintView>(
        cmd,
        async (ctx) => {
          const asOf = opts.asOf === undefined ? undefined : parseDay(opts.asOf);
          let report: PackReport;
          try {
            report = await (await loadPacks()).lintPack(ctx, { kind: "path", path }, { asOf });
          } catch (err) {
            // Archive-level refusals (zip slip, bombs, …) are lint results too.
            if (!isAppError(err) || err.kind !== "pack_invalid") throw err;
            const issues = (err.details as { issues: PackIssue[] }).issues;
            report = {
              ok: false,
              pack_id: null,
              version: null,
              manifest: undefined,
              providers: [],
              content_hash: "",
              issues,
            };
          }
          const strict = opts.strict === true;
          const failed = !report.ok || (strict && report.issues.length > 0);
          const { manifest: _m, providers, ...rest } = report;
          return {
            data: { ...rest, providers: providers.map((p) => p.provider_id), ok: !failed, strict },
            human: () =>
              [
                report.issues.length > 0 ? renderIssues(report.issues) : "no problems found",
                `${failed ? "FAIL" : "OK"}: ${report.issues.filter((i) => i.severity === "error").length} error(s), ${report.issues.filter((i) => i.severity === "warning").length} warning(s)${strict ? " (strict)" : ""}`,
              ].join("\n"),
            exitCode: failed ? ExitCode.error : ExitCode.ok,
          };
        },
        // Lint reads no state but the installed providers: where there is none, nothing is created.
        { state: "optional" },
      );
    });

  pack
    .command("list")
    .description("list installed packs")
    .addHelpText("after", "\nExample:\n  relay pack list --json")
    .action(async (_opts, cmd: Command) => {
      await runReadOnly<{ items: PackView[] }>(cmd, async (ctx) => ({
        data: { items: await (await loadPacks()).listPacks(ctx) },
        human: ({ items }) =>
          items.length === 0
            ? "no packs installed; install one with `relay pack install packs/openai-cn-pack`"
            : table(
                ["PACK", "VERSION", "PROVIDERS", "HOST RANGE", "INSTALLED"],
                items.map((p) => [
                  p.pack_id,
                  p.version,
                  p.providers.join(","),
                  p.host.version_range,
                  p.installed_at,
                ]),
              ),
      }));
    });

  pack
    .command("remove")
    .argument("<pack_id>", "installed pack id")
    .description("remove an installed pack (refused while a host has records of its providers)")
    .addHelpText(
      "after",
      "\nExit codes: 0 removed, 1 unknown pack, 4 its providers are still in use.\n\nExample:\n  relay pack remove openai-cn-pack",
    )
    .action(async (packId: string, _opts, cmd: Command) => {
      await runReadOnly<{ pack_id: string; removed_versions: number }>(cmd, async (ctx) => {
        const r = await (await loadPacks()).removePack(ctx, packId);
        return { data: r, human: () => `removed pack ${r.pack_id} (${r.removed_versions} version(s))` };
      });
    });

  pack
    .command("show")
    .argument("<pack_id>", "installed pack id")
    .description("show an installed pack, its providers and its version history")
    .addHelpText("after", "\nExample:\n  relay pack show openai-cn-pack")
    .action(async (packId: string, _opts, cmd: Command) => {
      await runReadOnly<PackView & { provider_definitions: unknown[] }>(cmd, async (ctx) => {
        const view = await (await loadPacks()).getPack(ctx, packId);
        const defs = await (await loadPacks()).listPackProviders(ctx, packId);
        return {
          data: { ...view, provider_definitions: defs },
          human: () =>
            [
              renderPack(view),
              "",
              table(
                ["PROVIDER", "NAME", "BASE URL", "REGION", "PLATFORM", "SMOKE MODEL", "MODELS"],
                defs.map((d) => [
                  d.provider_id,
                  d.display_name,
                  d.base_url,
                  d.region ?? "-",
                  `${d.platforms.preferred}/${d.platforms.fallback}`,
                  d.smoke_test_model,
                  d.default_models.length,
                ]),
              ),
            ].join("\n"),
        };
      });
    });
}
