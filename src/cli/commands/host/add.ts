import { Type } from "@sinclair/typebox";
import type { HostView } from "../../../hosts/hosts.js";
import { defineCommand, option, requiredOption } from "../../define.js";
import { runCommand } from "../../run.js";
import { readSecret } from "../../secret-input.js";
import { exitFor, renderHost, say } from "./render.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadHosts = () => import("../../../hosts/hosts.js");

const text = () => Type.Optional(Type.String());

export const hostAdd = defineCommand({
  name: "add",
  description: "register a sub2api host: checks the admin key, probes capabilities, stores the key encrypted",
  options: [
    requiredOption("--name <name>", "a short name for the host (letters, digits, . _ -) (required)"),
    requiredOption("--base-url <url>", "the sub2api root URL (https; http only for loopback) (required)"),
    option("--admin-key-file <path>", "read the admin API key from this file"),
    option("--admin-key-stdin", "read the admin API key from standard input"),
    option("--admin-key-env <var>", "read the admin API key from this environment variable"),
    option("--probe-identity <mode>", "how access is proven")
      .choices(["auto", "user", "none"])
      .default("auto"),
    option("--probe-email <email>", "with --probe-identity user: the probe user's email"),
    option(
      "--probe-password-file <path>",
      "with --probe-identity user: read the probe user's password from this file",
    ),
    option(
      "--probe-password-env <var>",
      "with --probe-identity user: read the probe user's password from this variable",
    ),
  ],
  schema: Type.Object(
    {
      name: Type.String(),
      baseUrl: Type.String(),
      adminKeyFile: text(),
      adminKeyStdin: Type.Optional(Type.Boolean()),
      adminKeyEnv: text(),
      probeIdentity: Type.Union([Type.Literal("auto"), Type.Literal("user"), Type.Literal("none")]),
      probeEmail: text(),
      probePasswordFile: text(),
      probePasswordEnv: text(),
    },
    { additionalProperties: false },
  ),
  help: `
Example:
  relay host add --name prod --base-url https://sub2api.example.com --admin-key-file ./admin.key
  printf '%s' "$KEY" | relay host add --name prod --base-url https://sub2api.example.com --admin-key-stdin --json`,
  action: async (_args, opts, cmd) => {
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
              email: opts.probeEmail,
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
  },
});
