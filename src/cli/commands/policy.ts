import type { Command } from "commander";
import { invalidInput } from "../../domain/errors.js";
import type { PolicyView, ReleaseResult } from "../../policy/manage.js";
import type { PolicyPassItem } from "../../policy/pass.js";
import { printable } from "../../util/sanitize.js";
import { table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";

const loadManage = () => import("../../policy/manage.js");

/** The policy part of `relay reconcile run --enforce`: what was done, or in observe mode what would be. */
export function renderPolicyPass(items: PolicyPassItem[]): string {
  const lines: string[] = [];
  for (const i of items) {
    if (!i.result) {
      lines.push(`health policy ${i.provider_id} on ${i.host_name}: not run — ${printable(i.skipped ?? "")}`);
      continue;
    }
    const r = i.result;
    lines.push(
      `health policy ${r.provider_id} on ${r.host_name} (${r.mode === "enforce" ? "enforced" : "observe mode: nothing written to the host"}): health ${r.previous_health} → ${r.health} — ${printable(r.health_reason)}`,
    );
    for (const a of r.actions.filter((x) => x.action !== "still_paused")) {
      const verb =
        r.mode === "enforce" || (a.action !== "pause" && a.action !== "resume")
          ? a.action
          : `would ${a.action}`;
      lines.push(
        `  ${verb.replace("_", " ").padEnd(13)} ${printable(a.name)} (#${a.account_id}): ${printable(a.reason)}${a.error ? ` — host refused: ${printable(a.error)}` : ""}`,
      );
    }
    for (const d of r.alerts) lines.push(`  alert → ${d.target}: ${d.ok ? "sent" : "not delivered"}`);
  }
  return lines.join("\n");
}

function renderPolicy(v: PolicyView): string {
  return [
    `${v.provider_id} on ${v.host_name}: ${v.mode === "enforce" ? "enforced" : "observe mode (relay reports, writes nothing)"}; pause after ${v.fail_after} failed tests, resume after ${v.resume_after} passing (doubled per earlier resume), floor ${v.floor} per group`,
    `health: ${v.health}${v.health_changed_at ? ` since ${v.health_changed_at}` : ""} — ${printable(v.health_reason)}`,
    v.accounts.length === 0
      ? "no account watched yet"
      : table(
          ["ACCOUNT", "ID", "FAILS", "PASSES", "RESUMES", "PAUSED BY RELAY", "LAST"],
          v.accounts.map((a) => [
            printable(a.name),
            a.account_id,
            a.fail_streak,
            a.pass_streak,
            a.resumes,
            a.latched ? `${a.latched_at} ${printable(a.latch_reason ?? "")}` : "-",
            a.last_action ?? "-",
          ]),
        ),
    ...v.events.slice(0, 10).map((e) => `  ${e.at} ${e.kind}: ${printable(e.message)}`),
  ].join("\n");
}

function onOff(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "on" || value === "off") return value === "on";
  throw invalidInput("ENFORCE_INVALID", "--enforce takes on or off");
}

function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value))
    throw invalidInput("POLICY_THRESHOLD_INVALID", `${name} takes a whole number from 1 to 100`);
  return Number(value);
}

export function configurePolicyCommands(provider: Command) {
  provider
    .command("policy")
    .argument("<provider_id>", "provider from an installed pack")
    .requiredOption("--host <host>", "host name or id (required)")
    .option(
      "--enforce <on|off>",
      "let relay pause and resume the accounts it made (off: observe mode, the default)",
    )
    .option("--fail-after <n>", "failed tests in a row before relay pauses an account (default 3)")
    .option("--resume-after <m>", "passing tests in a row before relay resumes one it paused (default 2)")
    .description("show or set the health policy of a provider on a host (observe mode unless enforced)")
    .addHelpText(
      "after",
      "\nExamples:\n  relay provider policy deepseek --host prod\n  relay provider policy deepseek --host prod --enforce on --fail-after 3",
    )
    .action(
      async (
        providerId: string,
        opts: { host: string; enforce?: string; failAfter?: string; resumeAfter?: string },
        cmd: Command,
      ) => {
        const change = [opts.enforce, opts.failAfter, opts.resumeAfter].some((o) => o !== undefined);
        const run = change ? runCommand<PolicyView> : runReadOnly<PolicyView>;
        await run(cmd, async (ctx) => {
          const enforce = onOff(opts.enforce);
          const failAfter = wholeNumber("--fail-after", opts.failAfter);
          const resumeAfter = wholeNumber("--resume-after", opts.resumeAfter);
          const m = await loadManage();
          const v = change
            ? await m.configurePolicy(ctx, {
                hostRef: opts.host,
                providerId,
                ...(enforce !== undefined ? { enforce } : {}),
                ...(failAfter !== undefined ? { failAfter } : {}),
                ...(resumeAfter !== undefined ? { resumeAfter } : {}),
              })
            : await m.policyStatus(ctx, { hostRef: opts.host, providerId });
          return { data: v, human: () => renderPolicy(v) };
        });
      },
    );

  provider
    .command("release")
    .argument("<provider_id>", "provider from an installed pack")
    .requiredOption("--host <host>", "host name or id (required)")
    .description(
      "hand control back: enforcement off, every account relay paused resumed, its latches cleared (accounts relay did not pause stay as they are)",
    )
    .addHelpText("after", "\nExample:\n  relay provider release deepseek --host prod")
    .action(async (providerId: string, opts: { host: string }, cmd: Command) => {
      await runCommand<ReleaseResult>(cmd, async (ctx) => {
        const r = await (await loadManage()).releaseProvider(ctx, { hostRef: opts.host, providerId });
        return {
          data: r,
          human: () =>
            [
              `${r.provider_id} on ${r.host_name}: control handed back (enforcement off); ${r.resumed.length} account(s) relay paused are schedulable again`,
              ...r.resumed.map((a) => `  resumed ${printable(a.name)} (#${a.account_id})`),
              ...r.already.map(
                (a) => `  already schedulable or gone: ${printable(a.name)} (#${a.account_id})`,
              ),
              ...r.failed.map(
                (a) =>
                  `  ✗ host refused ${printable(a.name)} (#${a.account_id}): ${printable(a.error)} — run release again`,
              ),
            ].join("\n"),
          exitCode: r.failed.length > 0 ? 1 : 0,
        };
      });
    });
}
