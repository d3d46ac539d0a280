import { Command, CommanderError } from "commander";
import type { ErrorCode } from "../domain/errors.js";
import { packageVersion } from "../util/paths.js";
import { configureAccessCommand } from "./commands/access/index.js";
import { configureBatchCommand } from "./commands/batch/index.js";
import { configureHostCommand } from "./commands/host/index.js";
import { configureMaintenanceCommand } from "./commands/maintenance/index.js";
import { configurePackCommand } from "./commands/pack/index.js";
import { configureProviderCommand } from "./commands/provider/index.js";
import { configureReconcileCommand } from "./commands/reconcile/index.js";
import { configureServeCommand } from "./commands/serve/index.js";
import { debugFromEnv, jsonText, reportError } from "./run.js";

export function buildProgram(): Command {
  const program = new Command("relay")
    .description(
      "sub2api-cn-relay-manager: onboard sub2api hosts, install model packs, import provider keys, prove and watch access",
    )
    .option("--db <path>", "SQLite state file (default: $RELAY_DB_PATH or ./data/relay.db)")
    .option("--json", "print one JSON document instead of human output")
    .option("--debug", "on an unexpected error, print its details (stack trace) too (or RELAY_DEBUG=1)")
    .option(
      "--concurrency <n>",
      "calls in flight to one host at most (default: $RELAY_HOST_CONCURRENCY or 16)",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    // Before the subcommands are added, so they inherit it: every usage error comes back to main().
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ helpWidth: 100, showGlobalOptions: true })
    .configureOutput({ outputError: (str, write) => write(str) });
  configureHostCommand(program);
  configurePackCommand(program);
  configureProviderCommand(program);
  configureBatchCommand(program);
  configureAccessCommand(program);
  configureReconcileCommand(program);
  configureMaintenanceCommand(program);
  configureServeCommand(program);
  documentEveryCommand(program);
  return program;
}

const DEFAULT_EXIT_CODES =
  "\nExit codes: 0 ok, 1 error (what to do is printed after `hint:`), 4 locked or conflict.";

/**
 * Every command's help ends with its exit codes (commands with their own list keep it), and every
 * command group lists its commands' examples, so `relay host --help` shows how to start.
 */
function documentEveryCommand(cmd: Command) {
  for (const sub of cmd.commands) {
    if (sub.commands.length > 0) {
      const examples = sub.commands.flatMap((leaf) => {
        const m = /Examples?:\n([\s\S]*)$/.exec(helpAfter(leaf));
        return m?.[1] ? m[1].trimEnd().split("\n").slice(0, 1) : [];
      });
      if (examples.length > 0) sub.addHelpText("after", `\nExamples:\n${examples.join("\n")}`);
      documentEveryCommand(sub);
    } else if (!/Exit codes:/.test(helpAfter(sub))) {
      sub.addHelpText("after", DEFAULT_EXIT_CODES);
    }
  }
}

/** The text a command prints after its options: what `addHelpText("after", …)` registered. */
function helpAfter(cmd: Command): string {
  let text = "";
  (cmd as unknown as NodeJS.EventEmitter).emit("afterHelp", {
    error: false,
    command: cmd,
    write: (s: string) => (text += s),
  });
  return text;
}

/** Flags that would carry a secret on the command line; refused before parsing, never echoed. */
const SECRET_FLAGS = ["--admin-key", "--api-key", "--token", "--password", "--key", "--keys"];

export function secretFlagIn(argv: string[]): string | undefined {
  for (const arg of argv) {
    const flag = arg.split("=")[0] ?? "";
    if (SECRET_FLAGS.includes(flag)) return flag;
  }
  return undefined;
}

/** Query parameters that carry a credential: libpq's `password` and `sslpassword`, tokens, keys. */
const SECRET_QUERY = /pass(word)?$|password|secret|token|api[-_]?key|access[-_]?key/i;

/**
 * The flag of a URL argument that carries a credential, in its user part (`u:pw@`) or its query
 * (`?password=`); `--to=URL` and `--to URL` alike. Refused before parsing, never echoed.
 */
export function secretUrlIn(argv: string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const value = eq > 0 ? arg.slice(eq + 1) : arg;
    if (!value.includes("://")) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    if (url.password === "" && ![...url.searchParams.keys()].some((k) => SECRET_QUERY.test(k))) continue;
    const previous = argv[i - 1];
    return eq > 0 ? arg.slice(0, eq) : previous?.startsWith("--") ? previous : "an argument";
  }
  return undefined;
}

const URL_SECRET_HINT: Record<string, string> = {
  "--to": "Put the password in PGPASSWORD, or the whole URL in a variable named with --to-env.",
  "--base-url":
    "A base URL carries no credentials: give the admin key with --admin-key-file, --admin-key-stdin or --admin-key-env.",
};

/** Under `--json`, a usage error is a JSON document on stdout too (the human text stays on stderr). */
function usageError(argv: string[], code: ErrorCode, message: string) {
  if (argv.includes("--json"))
    process.stdout.write(
      `${jsonText({ error: { code, message: message.replace(/^error: /, "").trim() } })}\n`,
    );
}

export async function main(argv: string[]): Promise<void> {
  const secretFlag = secretFlagIn(argv.slice(2));
  if (secretFlag) {
    usageError(
      argv,
      "SECRET_ARGUMENT_REFUSED",
      `${secretFlag} is refused: secrets are never accepted as command-line arguments`,
    );
    process.stderr.write(
      `error: ${secretFlag} is refused: secrets are never accepted as command-line arguments (they leak through \`ps\` and shell history)\n` +
        "hint: use --admin-key-file PATH, --admin-key-stdin or --admin-key-env VAR (keys: --keys-file PATH or -)\n",
    );
    process.exitCode = 1;
    return;
  }
  const urlFlag = secretUrlIn(argv.slice(2));
  if (urlFlag) {
    const message = `${urlFlag} must not carry a password or token (command lines are visible to others)`;
    usageError(argv, "SECRET_IN_ARGUMENT", message);
    process.stderr.write(
      `error: ${message}\nhint: ${URL_SECRET_HINT[urlFlag] ?? "Pass credentials in a file, on standard input or in an environment variable."}\n`,
    );
    process.exitCode = 1;
    return;
  }
  // Whatever escapes a command (a rejection nobody awaited included) is one line and a hint,
  // never a stack trace; --debug (RELAY_DEBUG=1) adds the details.
  const json = argv.includes("--json");
  const debug = argv.includes("--debug") || debugFromEnv(process.env);
  const fatal = (err: unknown) => {
    reportError(err, json, debug);
    process.exit(1);
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      ) {
        process.exitCode = 0;
        return;
      }
      usageError(argv, "USAGE", err.message);
      process.exitCode = 1;
      return;
    }
    reportError(err, json, debug);
  }
}
