import { type Command, Option } from "commander";
import { ExitCode } from "../../domain/errors.js";
import { OPTIONAL_CAPABILITIES, REQUIRED_CAPABILITIES } from "../../host/sub2api/types.js";
import type { HostRemoval, HostView } from "../../hosts/hosts.js";
import type { ProbeUserRemoval } from "../../hosts/probe-user.js";
import { printable } from "../../util/sanitize.js";
import { confirmOrRefuse } from "../confirm.js";
import { keyValues, table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";
import { readSecret } from "../secret-input.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadHosts = () => import("../../hosts/hosts.js");
const loadProbeUser = () => import("../../hosts/probe-user.js");

const CAPS_ORDER = [...REQUIRED_CAPABILITIES, ...OPTIONAL_CAPABILITIES];

export /** relay's probe user on the host, or the operator's; "not created yet" before the first proof. */
function probeUserLine(h: HostView): string | null {
  const u = h.probe_user;
  if (!u) return null;
  if (!u.created_by_relay)
    return u.user_id === null ? `${u.email} (the operator's)` : `${u.email} (#${u.user_id}, the operator's)`;
  return u.user_id === null
    ? `${u.email} (relay's, not created yet)`
    : `${u.email} (#${u.user_id}, created by relay to prove access)`;
}

function renderHost(h: HostView): string {
  const caps = h.capabilities as Record<string, unknown>;
  const yes = CAPS_ORDER.filter((k) => caps[k] === true);
  const no = CAPS_ORDER.filter((k) => caps[k] === false);
  const cn = Array.isArray(caps.cn_platforms) ? (caps.cn_platforms as string[]) : [];
  const lines = [
    keyValues([
      ["host", `${h.name} (${h.host_id})`],
      ["url", h.base_url],
      ["version", h.version],
      ["profile", h.profile],
      ["status", hostState(h).toUpperCase()],
      ["reachable", h.reachable],
      ["last probe ok", h.last_probe_ok_at],
      ...(h.last_error
        ? ([["last error", `${h.last_error.at} ${h.last_error.code}: ${h.last_error.message}`]] as [
            string,
            string,
          ][])
        : []),
      ["admin key", h.admin_key_hint],
      ["install id", h.install_id],
      ["probe identity", h.probe_identity],
      ["probe user", probeUserLine(h)],
    ]),
    "",
    `capabilities:   ${yes.join(", ") || "-"}`,
    `missing:        ${no.join(", ") || "-"}`,
    `CN platforms:   ${cn.join(", ") || "none"}`,
  ];
  if (h.blockers.length > 0) lines.push(`blockers:       ${h.blockers.join(", ")}`);
  if (h.providers.length > 0) lines.push("", "providers of the installed packs on this build:");
  for (const p of h.providers) {
    lines.push(
      p.status === "supported"
        ? `  ✓ ${p.provider_id}: ${p.mode === "native" ? `own platform \`${p.platform}\`` : "OpenAI fallback (force_chat_completions)"}`
        : `  ✗ ${p.provider_id}: cannot be served — ${p.reason}${p.first_working_version ? ` (works from ${p.first_working_version})` : ""}`,
    );
  }
  for (const r of h.status_reasons) lines.push("", `✗ ${r.message}`, ...(r.hint ? [`  → ${r.hint}`] : []));
  if (h.warnings.length > 0) lines.push("");
  for (const w of h.warnings) lines.push(`! ${w.message}`);
  return lines.join("\n");
}

/** A list of what goes, with what happens to it; "none" when there is nothing. */
const listOf = (items: string[], fate: string) =>
  items.length === 0 ? "none" : `${items.join(", ")} (${fate})`;

/** What a removal of the probe user removes (or removed), and what happens next. */
function renderProbeUserRemoval(r: ProbeUserRemoval, asking = false): string {
  if (r.outcome === "nothing_to_remove")
    return `host ${r.host_name} has no probe user relay made; nothing to remove (the next access proof creates ${r.next_email})`;
  const u = r.probe_user;
  const done = r.outcome === "removed";
  const user = u
    ? `${u.email}${u.user_id !== null ? ` (#${u.user_id})` : ""}${u.on_host ? "" : ", already gone from the host"}`
    : "none recorded";
  const subscriptions = r.subscriptions.map((x) => `${x.provider_id} #${x.subscription_id ?? "?"}`);
  const keys = r.api_keys.map((k) => `${k.name} #${k.key_id ?? "?"}`);
  const lines = [
    done
      ? `removed relay's probe user from host ${r.host_name}:`
      : `relay would remove its probe user from host ${r.host_name}:`,
    `  user:           ${user}`,
    `  subscriptions:  ${listOf(subscriptions, done ? "revoked" : "to be revoked")}`,
    `  API keys:       ${listOf(keys, done ? "deleted with the user" : "to be deleted with the user")}`,
    `  providers:      ${r.providers.join(", ") || "none"}`,
    "",
    `The next access proof creates a new probe user, ${r.next_email}. ${r.note}`,
  ];
  if (!done && !asking) lines.push("", "Nothing was changed (dry run).");
  return lines.join("\n");
}

/**
 * What `host list` and `host show` say first: `unreachable` when the host did not answer its
 * newest probe (the capability verdict, `supported` or `unsupported`, is about an older answer).
 */
export function hostState(h: HostView): string {
  return h.reachable === "no" ? "unreachable" : h.status;
}

/** Progress for people: on a terminal only, on stderr (stdout stays the result). */
const say = (line: string) => {
  if (process.stderr.isTTY) process.stderr.write(`${printable(line)}\n`);
};

/** An unsupported host is a failed onboarding: the record is kept, the exit code says it is not usable. */
function exitFor(h: HostView) {
  return h.status === "supported" ? ExitCode.ok : ExitCode.error;
}

export function configureHostCommand(program: Command) {
  const host = program.command("host").description("register and inspect sub2api hosts");

  host
    .command("add")
    .description(
      "register a sub2api host: checks the admin key, probes capabilities, stores the key encrypted",
    )
    .requiredOption("--name <name>", "a short name for the host (letters, digits, . _ -) (required)")
    .requiredOption("--base-url <url>", "the sub2api root URL (https; http only for loopback) (required)")
    .option("--admin-key-file <path>", "read the admin API key from this file")
    .option("--admin-key-stdin", "read the admin API key from standard input")
    .option("--admin-key-env <var>", "read the admin API key from this environment variable")
    .addOption(
      new Option("--probe-identity <mode>", "how access is proven")
        .choices(["auto", "user", "none"])
        .default("auto"),
    )
    .option("--probe-email <email>", "with --probe-identity user: the probe user's email")
    .option(
      "--probe-password-file <path>",
      "with --probe-identity user: read the probe user's password from this file",
    )
    .option(
      "--probe-password-env <var>",
      "with --probe-identity user: read the probe user's password from this variable",
    )
    .addHelpText(
      "after",
      `
Example:
  relay host add --name prod --base-url https://sub2api.example.com --admin-key-file ./admin.key
  printf '%s' "$KEY" | relay host add --name prod --base-url https://sub2api.example.com --admin-key-stdin --json`,
    )
    .action(async (opts, cmd: Command) => {
      await runCommand<HostView>(cmd, async (ctx) => {
        const adminKey = readSecret(
          "admin API key",
          { file: "--admin-key-file", stdin: "--admin-key-stdin", env: "--admin-key-env" },
          { file: opts.adminKeyFile, stdin: opts.adminKeyStdin, env: opts.adminKeyEnv },
          process.env,
        );
        const probeUser =
          opts.probeEmail !== undefined
            ? {
                email: opts.probeEmail as string,
                password: readSecret(
                  "probe user password",
                  { file: "--probe-password-file", env: "--probe-password-env" },
                  { file: opts.probePasswordFile, env: opts.probePasswordEnv },
                  process.env,
                ),
              }
            : undefined;
        say(`probing ${opts.baseUrl} (reads, and writes the host must refuse)…`);
        const view = await (await loadHosts()).addHost(ctx, {
          name: opts.name,
          baseUrl: opts.baseUrl,
          adminKey,
          probeIdentity: opts.probeIdentity,
          ...(probeUser ? { probeUser } : {}),
        });
        return { data: view, human: (h) => `registered\n${renderHost(h)}`, exitCode: exitFor(view) };
      });
    });

  host
    .command("list")
    .description("list registered hosts")
    .addHelpText("after", "\nExample:\n  relay host list --json")
    .action(async (_opts, cmd: Command) => {
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
    });

  host
    .command("show")
    .argument("<host>", "host name or id")
    .description("show a host with its latest capability snapshot")
    .addHelpText("after", "\nExample:\n  relay host show prod")
    .action(async (ref: string, _opts, cmd: Command) => {
      await runReadOnly<HostView>(cmd, async (ctx) => ({
        data: await (await loadHosts()).getHost(ctx, ref),
        human: renderHost,
      }));
    });

  host
    .command("remove")
    .argument("<host>", "host name or id")
    .option(
      "--force",
      "forget the host even though resources relay made are live there (they stay on the host)",
    )
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .description("remove a host from relay and forget its records; never changes anything on the host")
    .addHelpText(
      "after",
      "\nExit codes: 0 removed, 1 refused or cancelled, 4 resources relay made are still live there (roll back, or --force).\n\nExample:\n  relay host remove staging --yes",
    )
    .action(async (ref: string, opts: { force?: boolean; yes?: boolean }, cmd: Command) => {
      await runCommand<HostRemoval>(cmd, async (ctx) => {
        const hosts = await loadHosts();
        const host = await hosts.getHost(ctx, ref);
        await confirmOrRefuse(
          opts.yes === true,
          `Remove host ${host.name}? [y/N] `,
          () => `relay forgets host ${host.name} (${host.base_url}) and everything it recorded there`,
        );
        const r = await hosts.removeHost(ctx, ref, { force: opts.force === true });
        return {
          data: r,
          human: () =>
            `removed host ${r.name}${r.live_resources_forgotten > 0 ? `; ${r.live_resources_forgotten} resource(s) relay made stay on the host, no longer tracked` : ""}`,
        };
      });
    });

  host
    .command("remove-probe-user")
    .argument("<host>", "host name or id")
    .option("--dry-run", "say what would be removed; change nothing")
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .description(
      "remove relay's own probe user from the host (its subscriptions relay assigned, its API keys, the user); the next access proof creates a new one",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 removed, listed (--dry-run) or nothing to remove, 1 refused, cancelled or unfinished (run it again).\n\nExamples:\n  relay host remove-probe-user prod --dry-run\n  relay host remove-probe-user prod --yes --json",
    )
    .action(async (ref: string, opts: { dryRun?: boolean; yes?: boolean }, cmd: Command) => {
      const verbs = await loadProbeUser();
      if (opts.dryRun) {
        await runReadOnly<ProbeUserRemoval>(cmd, async (ctx) => ({
          data: await verbs.removeProbeUser(ctx, ref, { dryRun: true }),
          human: renderProbeUserRemoval,
        }));
        return;
      }
      await runCommand<ProbeUserRemoval>(cmd, async (ctx) => {
        if (opts.yes !== true) {
          // The import's rule: ask on a terminal, refuse elsewhere; what is shown is read now.
          const p = await verbs.removeProbeUser(ctx, ref, { dryRun: true });
          if (p.outcome !== "nothing_to_remove")
            await confirmOrRefuse(false, "Remove relay's probe user? [y/N] ", () =>
              printable(renderProbeUserRemoval(p, true), { lines: true }),
            );
        }
        return { data: await verbs.removeProbeUser(ctx, ref), human: renderProbeUserRemoval };
      });
    });

  host
    .command("probe")
    .argument("<host>", "host name or id")
    .description("probe the host again and record a new capability snapshot")
    .addHelpText("after", "\nExample:\n  relay host probe prod --json")
    .action(async (ref: string, _opts, cmd: Command) => {
      await runCommand<HostView>(cmd, async (ctx) => {
        say(`probing ${ref} (reads, and writes the host must refuse)…`);
        const view = await (await loadHosts()).probeHost(ctx, ref);
        return { data: view, human: renderHost, exitCode: exitFor(view) };
      });
    });
}
